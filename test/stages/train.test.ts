import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { materialize } from '../../src/data/features.js';
import { loadModel } from '../../src/model/io.js';
import { build } from '../../src/stages/build.js';
import { compile } from '../../src/stages/compile.js';
import { evaluate } from '../../src/stages/evaluate.js';
import { fit } from '../../src/stages/fit.js';
import { load } from '../../src/stages/load.js';
import { normalize } from '../../src/stages/normalize.js';
import { readJson, readJsonl, tinyContext } from '../helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Runs the real stages in order on the tiny fixture (300 digits, 2 epochs). */
async function trainTiny(set: string[] = []) {
  const ctx = tinyContext(set);
  const loaded = await load.run({}, ctx);
  if (loaded.kind !== 'images') throw new Error('the tiny fixture is an image dataset');
  const prepared = await normalize.run({ load: loaded }, ctx);
  const built = await build.run({ normalize: prepared }, ctx);
  const compiled = await compile.run({ build: built }, ctx);
  const tensorsBefore = tf.memory().numTensors;
  const fitted = await fit.run({ compile: compiled, normalize: prepared }, ctx);
  const tensorsAfter = tf.memory().numTensors;
  const summary = await evaluate.run({ fit: fitted, normalize: prepared }, ctx);
  return { ctx, loaded, prepared, fitted, summary, tensorsBefore, tensorsAfter };
}

describe('the training stages on 300 embedded digits', () => {
  let run: Awaited<ReturnType<typeof trainTiny>>;
  beforeAll(async () => {
    run = await trainTiny(['train.epochs=3']);
  });

  it('splits off the last 20% for validation and records the data fingerprint', () => {
    expect(run.loaded.train.count).toBe(240);
    expect(run.loaded.val.count).toBe(60);
    expect(run.loaded.test.count).toBe(100);
    expect(run.ctx.notes['data']).toMatchObject({ source: 'embedded', embedded: true, counts: { train: 240, validation: 60, test: 100 } });
    expect((run.ctx.notes['data'] as { sha256: string }).sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('prepares float inputs of shape [784] and one-hot targets', () => {
    expect(run.prepared.inputShape).toEqual([784]);
    const x = materialize(run.prepared.train.x);
    expect(x.length).toBe(240 * 784);
    expect(run.prepared.train.y.length).toBe(240 * 10);
    expect(Math.max(...x.subarray(0, 784))).toBeLessThanOrEqual(1);
    // Bytes through the table give exactly byte / 255 in float32.
    expect(x[300]).toBe(Math.fround(run.loaded.train.images[300]! / 255));
  });

  it('writes one metrics line per epoch, and the loss falls', () => {
    const lines = readJsonl(run.ctx.runDir.file('metrics.jsonl'));
    expect(lines.map((l) => l['epoch'])).toEqual([1, 2, 3]);
    for (const l of lines) expect(Object.keys(l)).toEqual(['epoch', 'loss', 'accuracy', 'val_loss', 'val_accuracy', 'seconds']);
    expect(lines[2]!['loss']).toBeLessThan(lines[0]!['loss']!);
    expect(run.fitted.history).toHaveLength(3);
  });

  it('leaves no tensors behind from training but the optimizer state', () => {
    // Adam adds two slots per weight (4 weights) plus its step counters, created on the first step; nothing grows after.
    expect(run.tensorsAfter - run.tensorsBefore).toBeLessThanOrEqual(4 * 2 + 2);
  });

  it('scores the test split consistently: confusion matrix accuracy equals the reported accuracy', () => {
    const s = run.summary as { accuracy: number; examples: number; confusionMatrix: { matrix: number[][] }; perClass: { support: number }[] };
    const m = s.confusionMatrix.matrix;
    const correct = m.reduce((a, row, i) => a + row[i]!, 0);
    expect(s.examples).toBe(100);
    expect(correct / 100).toBeCloseTo(s.accuracy, 6);
    expect(s.perClass.reduce((a, c) => a + c.support, 0)).toBe(100);
    expect(readJson(run.ctx.runDir.file('summary.json'))).toEqual(JSON.parse(JSON.stringify(run.summary)));
  });

  it('saves a model that tf.loadLayersModel reads back and that predicts the same numbers', async () => {
    const loaded = await loadModel(run.ctx.runDir.file('model'));
    const x = tf.tensor(materialize(run.prepared.test.x).subarray(0, 5 * 784), [5, 784]);
    const a = (run.fitted.model.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    tf.dispose([x]);
  });
});

describe('fit', () => {
  it.each(['cpu', 'wasm'])('keeps the tensor count flat from epoch to epoch (%s)', async (backend) => {
    await tf.setBackend(backend);
    const ctx = tinyContext(['train.epochs=4']);
    const counts: number[] = [];
    const counting = { ...ctx, progress: { epochStart() {}, batch() {}, epochEnd: () => void counts.push(tf.memory().numTensors) } };
    const prepared = await normalize.run({ load: await load.run({}, counting) }, counting);
    const compiled = await compile.run({ build: await build.run({ normalize: prepared }, counting) }, counting);
    const before = tf.memory().numTensors;
    const fitted = await fit.run({ compile: compiled, normalize: prepared }, counting);
    expect(counts).toHaveLength(4);
    expect(new Set(counts).size).toBe(1);
    // The optimizer's slots are freed when fit ends: nothing is left but the model.
    expect(tf.memory().numTensors).toBe(before);
    fitted.model.dispose();
    await tf.setBackend('cpu');
  });

  it('stops early and restores the best epoch weights', async () => {
    // No later epoch can improve val_loss by more than minDelta, whatever the (dropout) randomness:
    // epoch 1 is the best, epoch 2 exhausts patience 1, and the weights of epoch 1 come back.
    const run = await trainTiny(['train.epochs=8', 'train.earlyStopping={monitor: val_loss, patience: 1, minDelta: 100, restoreBestWeights: true}']);
    const lines = readJsonl(run.ctx.runDir.file('metrics.jsonl'));
    expect(run.fitted.stoppedEarly).toBe(true);
    expect(lines.map((l) => l['epoch'])).toEqual([1, 2]);
    expect(run.fitted.bestEpoch).toBe(1);
    expect(lines[1]!['val_loss']).not.toBe(lines[0]!['val_loss']);
    const restored = await (await import('../../src/train/batches.js')).evaluateSplit(run.fitted.model, run.prepared.val, [784], [10], 256);
    expect(restored[0]).toBeCloseTo(lines[0]!['val_loss']!, 5);
  });

  it.each([
    ['adagrad', '{adagrad: {learningRate: 0.1}}'],
    ['adadelta', '{adadelta: {learningRate: 1}}'],
    ['adamax', '{adamax: {}}'],
  ])('trains with %s through the stock optimizer', async (_name, optimizer) => {
    const run = await trainTiny([`compile.optimizer=${optimizer}`, 'train.epochs=3', 'model.layers.1.dropout.rate=0']);
    expect(run.ctx.notes['trainer']).toBe('keras');
    const lines = readJsonl(run.ctx.runDir.file('metrics.jsonl'));
    expect(lines[2]!['loss']).toBeLessThan(lines[0]!['loss']!);
  });

  it.each([['adam (fused)', '{adam: {learningRate: 0.01}}', 0.01], ['adagrad (stock)', '{adagrad: {learningRate: 0.1}}', 0.1]] as const)(
    'applies a learning-rate schedule each epoch and records it: %s', async (_name, optimizer, lr0) => {
      const common = [`compile.optimizer=${optimizer}`, 'model.layers.1.dropout.rate=0'];
      const one = await trainTiny([...common, 'train.epochs=1']);
      // After epoch 1 the rate is a billionth of itself: three epochs end (almost) where one did.
      const three = await trainTiny([...common, 'train.epochs=3', 'train.lrSchedule={stepDecay: {every: 1, factor: 1.0e-9}}']);
      const lrs = readJsonl(three.ctx.runDir.file('metrics.jsonl')).map((l) => l['lr']!);
      expect(lrs[0]).toBe(lr0);
      expect(lrs[1]! / lrs[0]!).toBeCloseTo(1e-9, 15);
      const [a, b] = [one, three].map((r) => r.fitted.model.getWeights().flatMap((w) => Array.from(w.dataSync())));
      const worst = Math.max(...a!.map((v, i) => Math.abs(v - b![i]!)));
      expect(worst).toBeLessThan(1e-6);
      const unscheduled = await trainTiny([...common, 'train.epochs=3']);
      const c = unscheduled.fitted.model.getWeights().flatMap((w) => Array.from(w.dataSync()));
      expect(Math.max(...a!.map((v, i) => Math.abs(v - c[i]!)))).toBeGreaterThan(1e-3);
    });

  it('records every compiled metric per epoch, for validation, and on the test split', async () => {
    const run = await trainTiny(['compile.metrics=[accuracy, precision, recall, mae, mse]', 'train.epochs=2']);
    const lines = readJsonl(run.ctx.runDir.file('metrics.jsonl'));
    expect(Object.keys(lines[0]!)).toEqual(['epoch', 'loss', 'accuracy', 'precision', 'recall', 'mae', 'mse',
      'val_loss', 'val_accuracy', 'val_precision', 'val_recall', 'val_mae', 'val_mse', 'seconds']);
    for (const key of ['precision', 'recall', 'val_precision', 'mae', 'val_mse']) {
      expect(lines[1]![key]).toBeGreaterThanOrEqual(0);
      expect(lines[1]![key]).toBeLessThanOrEqual(1);
    }
    const summary = run.summary as Record<string, number>;
    expect(Object.keys(summary)).toEqual(expect.arrayContaining(['accuracy', 'precision', 'recall', 'mae', 'mse']));
    // With one-hot targets the mean squared error is the squared distance to the right class, over 10 outputs.
    expect(summary['mse']).toBeLessThan(0.1);
  });

  it('fails with the epoch and batch when the loss becomes NaN', async () => {
    // A learning rate that throws the weights past float32 within a few batches (inputs past it are refused by normalize).
    const ctx = tinyContext(['compile.optimizer.adam.learningRate=1e30']);
    const loaded = await load.run({}, ctx);
    const prepared = await normalize.run({ load: loaded }, ctx);
    const compiled = await compile.run({ build: await build.run({ normalize: prepared }, ctx) }, ctx);
    await expect(fit.run({ compile: compiled, normalize: prepared }, ctx)).rejects.toThrow(/loss became (NaN|Infinity) at epoch 1, batch \d+/);
  });
});
