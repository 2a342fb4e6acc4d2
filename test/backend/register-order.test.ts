import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { registerTrainingKernels } from '../../src/backend/training-kernels.js';

describe('registering the training kernels', () => {
  it('replaces wasm\'s kernels even when cpu was registered first, before the wasm package was loaded', async () => {
    // A sweep worker can run a cpu trial, then a wasm one: the second registration must not be skipped.
    registerTrainingKernels(['cpu', 'wasm']);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    await import('@tensorflow/tfjs-backend-wasm');
    const stock = tf.getKernel('GatherV2', 'wasm')!.kernelFunc;
    registerTrainingKernels(['wasm']);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeDefined();
    expect(tf.getKernel('GatherV2', 'wasm')!.kernelFunc).not.toBe(stock);
    // Once per backend: a second call leaves the kernels as they are.
    const ours = tf.getKernel('GatherV2', 'wasm')!.kernelFunc;
    registerTrainingKernels(['wasm']);
    expect(tf.getKernel('GatherV2', 'wasm')!.kernelFunc).toBe(ours);
  });
});
