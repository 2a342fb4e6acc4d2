import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/model/create.js';
import type { LayerSpec } from '../../src/spec/types.js';
import { checkTrainable, compile } from '../../src/stages/compile.js';
import { tinyContext } from '../helpers.js';

const CONV: LayerSpec[] = [
  { conv2d: { filters: 2, kernelSize: 3, strides: 1, padding: 'valid', activation: 'relu', useBias: true, kernelInitializer: 'glorotUniform', biasInitializer: 'zeros' } },
  { flatten: {} },
  { dense: { units: 10, activation: 'softmax', useBias: true, kernelInitializer: 'glorotUniform', biasInitializer: 'zeros' } },
];

describe('compile', () => {
  it('refuses, before any training, a model the backend cannot train, naming the kernel', async () => {
    // This test file never registers runner's wasm kernels: wasm as tfjs ships it.
    await tf.setBackend('wasm');
    const model = createModel(CONV, [8, 8, 1], 1);
    await expect(compile.run({ build: { model } }, tinyContext())).rejects.toThrow(
      "the wasm backend cannot train this model: it has no 'Conv2DBackpropFilter' kernel (layers: Conv2D, Flatten, Dense); try --backend cpu");
    model.dispose();
  });

  it('passes a model the backend can train, leaving no tensors behind and the weights as they were', async () => {
    await tf.setBackend('cpu');
    const model = createModel(CONV, [8, 8, 1], 1);
    const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
    const before = tf.memory().numTensors;
    checkTrainable(model, 'cpu');
    expect(tf.memory().numTensors).toBe(before);
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(weights);
    await compile.run({ build: { model } }, tinyContext());
    expect(model.optimizer).toBeDefined();
    model.dispose();
  });
});
