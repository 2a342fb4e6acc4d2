import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { createModel } from '../../src/model/create.js';
import type { LayerSpec, OptimizerSpec } from '../../src/spec/types.js';
import { isFusedOptimizer, type FusedOptimizer } from '../../src/train/fused-optimizer.js';
import { createOptimizer, stockOptimizer } from '../../src/train/optimizer.js';
import { createTrainer } from '../../src/train/trainer.js';

const LAYERS: LayerSpec[] = [
  { dense: { units: 16, activation: 'relu', useBias: true, kernelInitializer: 'glorotUniform', biasInitializer: 'zeros' } },
  { dense: { units: 5, activation: 'softmax', useBias: true, kernelInitializer: 'glorotUniform', biasInitializer: 'zeros' } },
];
const OPTIMIZERS: { name: string; spec: OptimizerSpec }[] = [
  { name: 'adam', spec: { adam: { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } } },
  { name: 'sgd', spec: { sgd: { learningRate: 0.1, momentum: 0, nesterov: false } } },
  { name: 'sgd with momentum', spec: { sgd: { learningRate: 0.05, momentum: 0.9, nesterov: false } } },
  { name: 'sgd with nesterov momentum', spec: { sgd: { learningRate: 0.05, momentum: 0.9, nesterov: true } } },
  { name: 'rmsprop', spec: { rmsprop: { learningRate: 0.01, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false } } },
  { name: 'rmsprop with momentum', spec: { rmsprop: { learningRate: 0.01, rho: 0.9, momentum: 0.5, epsilon: 1e-7, centered: false } } },
];

/** Random but fixed data: 96 examples of 12 features, 5 classes. */
function data(): { x: Float32Array; y: Float32Array } {
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const x = Float32Array.from({ length: 96 * 12 }, () => rand() * 2 - 1);
  const y = new Float32Array(96 * 5);
  for (let i = 0; i < 96; i++) y[i * 5 + Math.floor(rand() * 5)] = 1;
  return { x, y };
}

const built: tf.LayersModel[] = [];
/** A model compiled with runner's optimizer for the current backend, or (stock) with tfjs's own. */
function model(spec: OptimizerSpec, stock = false): tf.LayersModel {
  const m = createModel(LAYERS, [12], 3);
  m.compile({ optimizer: stock ? stockOptimizer(spec) : createOptimizer(spec), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  built.push(m);
  return m;
}
afterAll(() => built.forEach((m) => m.dispose()));

describe('the stock trainer (tfjs-node\'s path)', () => {
  it('is model.trainOnBatch: the same losses as model.fit', async () => {
    await tf.setBackend('cpu');
    const { x, y } = data();
    const spec = OPTIMIZERS[0]!.spec;
    const reference = model(spec, true);
    const stock = model(spec, true);
    const xs = tf.tensor2d(x, [96, 12]);
    const ys = tf.tensor2d(y, [96, 5]);
    const history = await reference.fit(xs, ys, { batchSize: 32, epochs: 1, shuffle: false, verbose: 0 });
    const trainer = createTrainer(stock);
    expect(trainer.kind).toBe('keras');
    for (let b = 0; b < 3; b++) {
      const xb = tf.tensor2d(x.subarray(b * 32 * 12, (b + 1) * 32 * 12), [32, 12]);
      const yb = tf.tensor2d(y.subarray(b * 32 * 5, (b + 1) * 32 * 5), [32, 5]);
      await trainer.step(xb, yb);
      tf.dispose([xb, yb]);
    }
    const losses = trainer.flush().map(([loss]) => loss!);
    expect(losses.reduce((a, l) => a + l, 0) / 3).toBeCloseTo((history.history['loss'] as number[])[0]!, 6);
    tf.dispose([xs, ys]);
  });
});

describe.each(['cpu', 'wasm'])('the fused trainer on %s', (backend) => {
  it.each(OPTIMIZERS)('matches model.fit step for step with $name', async ({ spec }) => {
    await tf.setBackend(backend);
    const { x, y } = data();
    const reference = model(spec, true);
    const fused = model(spec);
    const xs = tf.tensor2d(x, [96, 12]);
    const ys = tf.tensor2d(y, [96, 5]);
    // Three epochs of 3 batches, same order (no shuffle) in both.
    const history = await reference.fit(xs, ys, { batchSize: 32, epochs: 3, shuffle: false, verbose: 0 });
    const trainer = createTrainer(fused);
    expect(trainer.kind).toBe('fused');
    const losses: number[] = [];
    for (let epoch = 0; epoch < 3; epoch++) {
      let sum = 0;
      for (let b = 0; b < 3; b++) {
        const xb = tf.tensor2d(x.subarray(b * 32 * 12, (b + 1) * 32 * 12), [32, 12]);
        const yb = tf.tensor2d(y.subarray(b * 32 * 5, (b + 1) * 32 * 5), [32, 5]);
        await trainer.step(xb, yb);
        tf.dispose([xb, yb]);
      }
      for (const [loss] of trainer.flush()) sum += loss! / 3;
      losses.push(sum);
    }
    trainer.dispose();
    const want = history.history['loss'] as number[];
    losses.forEach((l, i) => expect(l).toBeCloseTo(want[i]!, 5));
    const a = reference.getWeights().map((w) => Array.from(w.dataSync()));
    const b = fused.getWeights().map((w) => Array.from(w.dataSync()));
    for (let i = 0; i < a.length; i++) {
      const scale = Math.max(...a[i]!.map(Math.abs));
      const worst = Math.max(...a[i]!.map((v, j) => Math.abs(v - b[i]![j]!)));
      expect(worst / scale).toBeLessThan(1e-5);
    }
    tf.dispose([xs, ys]);
  });
});

describe('the optimizer compile builds', () => {
  it('is the object fit steps, with the spec learning rate as the schedules\' start', async () => {
    await tf.setBackend('cpu');
    const spec = OPTIMIZERS[0]!.spec;
    const m = model(spec);
    expect(isFusedOptimizer(m.optimizer)).toBe(true);
    const trainer = createTrainer(m);
    expect(trainer.baseLearningRate).toBe(0.01);
    const before = (m.optimizer as FusedOptimizer).getState().scalars['accBeta1'];
    const { x, y } = data();
    const xb = tf.tensor2d(x.subarray(0, 32 * 12), [32, 12]);
    const yb = tf.tensor2d(y.subarray(0, 32 * 5), [32, 5]);
    await trainer.step(xb, yb);
    trainer.flush();
    // One Adam step multiplies the beta1 power held by the compiled optimizer itself.
    expect((m.optimizer as FusedOptimizer).getState().scalars['accBeta1']).toBeCloseTo(before! * 0.9, 6);
    tf.dispose([xb, yb]);
    trainer.dispose();
  });

  it('is tfjs\'s own where no fused kernel applies, and starts schedules from its rate', async () => {
    await tf.setBackend('cpu');
    const m = model({ adagrad: { learningRate: 0.3, initialAccumulatorValue: 0.1 } });
    expect(isFusedOptimizer(m.optimizer)).toBe(false);
    const trainer = createTrainer(m);
    expect(trainer.kind).toBe('keras');
    expect(trainer.baseLearningRate).toBe(0.3);
  });

  it.each(OPTIMIZERS)('names the tfjs class and config of $name in the training config', async ({ spec }) => {
    await tf.setBackend('cpu');
    const described = (m: tf.LayersModel) => ({ className: m.optimizer.getClassName(), config: m.optimizer.getConfig() });
    expect(described(model(spec))).toEqual(described(model(spec, true)));
  });
});
