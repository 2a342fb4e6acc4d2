import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { FusedOptimizer } from '../../src/train/fused-optimizer.js';
import type { OptimizerSpec } from '../../src/spec/types.js';

const FLT_MIN = 1.1754943508222875e-38;

describe.each(['cpu', 'wasm'])('the fused optimizer state on %s', (backend) => {
  it.each<{ name: string; spec: OptimizerSpec }>([
    { name: 'adam', spec: { adam: { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } } },
    { name: 'sgd with momentum', spec: { sgd: { learningRate: 0.01, momentum: 0.9, nesterov: false } } },
    { name: 'rmsprop with momentum', spec: { rmsprop: { learningRate: 0.01, rho: 0.9, momentum: 0.9, epsilon: 1e-7, centered: false } } },
  ])('$name: a moment whose gradient stays zero decays to exactly 0, never a subnormal', async ({ spec }) => {
    await tf.setBackend(backend);
    // 7 values: the 4-wide SIMD loop and the scalar tail of the wasm Adam both run.
    const w = tf.variable(tf.fill([7], 0.5));
    const opt = new FusedOptimizer(spec as never);
    opt.bind([w]);
    const one = tf.ones([7]);
    const zero = tf.zeros([7]);
    opt.apply([one]);
    for (let step = 0; step < 1200; step++) opt.apply([zero]);
    const slots = opt.getState().arrays.flatMap((a) => Array.from(a.values));
    // Without the flush these stick at denorm_min (1.4e-45): denorm_min * 0.9 rounds back to itself.
    expect(slots.filter((x) => x !== 0 && Math.abs(x) < FLT_MIN)).toEqual([]);
    expect(Array.from(w.dataSync()).every(Number.isFinite)).toBe(true);
    opt.dispose();
    tf.dispose([w, one, zero]);
  });
});
