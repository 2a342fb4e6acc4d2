import * as tf from '../backend/tf.js';
import type { LayersModel } from '../backend/tf.js';
import { fillRows, sizeOf, type Features } from '../data/features.js';
import { buildForward, compiledOf } from './forward.js';
import type { Split } from '../data/prepared.js';

/** Fills reusable buffers with rows order[from..to) of a split (no tensor Slice: wasm's copies its whole input). */
export function fillBatch(split: Split, ySize: number, order: Uint32Array, from: number, to: number, xBuf: Float32Array, yBuf: Float32Array): void {
  fillRows(split.x, xBuf, from, to, order);
  for (let i = from; i < to; i++) {
    const r = order[i]!;
    yBuf.set(split.y.subarray(r * ySize, (r + 1) * ySize), (i - from) * ySize);
  }
}

/** The model's outputs for rows of features (inference mode, the pass evaluate uses), in chunks; row-major floats. */
export function predictRows(model: LayersModel, x: Features, count: number, inputShape: readonly number[], batchSize = 256): Float32Array {
  const xSize = sizeOf(inputShape);
  const outSize = sizeOf((model.outputs[0]!.shape as number[]).slice(1));
  const out = new Float32Array(count * outSize);
  const xBuf = new Float32Array(Math.min(batchSize, count) * xSize);
  // The inference pass model.predict computes, faster on wasm.
  const forward = buildForward(model, false);
  for (let from = 0; from < count; from += batchSize) {
    const to = Math.min(count, from + batchSize);
    fillRows(x, xBuf, from, to);
    const values = tf.tidy(() => forward(tf.tensor(xBuf.subarray(0, (to - from) * xSize), [to - from, ...inputShape])).dataSync());
    out.set(values, from * outSize);
  }
  return out;
}

/** Where the forward pass of evaluateSplit also writes, per example: the argmax class, or the single output value. */
export interface PredictionSink { readonly classes?: Int32Array; readonly values?: Float32Array }

/**
 * Loss and compiled metrics over a whole split (as model.evaluate: batch means weighted by batch
 * size), in chunks made from its typed arrays. The same forward pass fills `sink` if given: the
 * predicted classes for the confusion matrix, or the predicted values for R^2.
 */
export async function evaluateSplit(model: LayersModel, split: Split, inputShape: readonly number[], targetShape: readonly number[], batchSize: number, sink: PredictionSink = {}): Promise<number[]> {
  const xSize = sizeOf(inputShape);
  const ySize = sizeOf(targetShape);
  const xBuf = new Float32Array(Math.min(batchSize, split.count) * xSize);
  const { lossFunctions, metricsTensors } = compiledOf(model);
  const fns = [lossFunctions[0]!, ...metricsTensors.map(([fn]) => fn)];
  const forward = buildForward(model, false);
  const sums: number[] = [];
  for (let from = 0; from < split.count; from += batchSize) {
    const to = Math.min(split.count, from + batchSize);
    fillRows(split.x, xBuf, from, to);
    const values = tf.tidy(() => {
      const x = tf.tensor(xBuf.subarray(0, (to - from) * xSize), [to - from, ...inputShape]);
      const y = tf.tensor(split.y.subarray(from * ySize, to * ySize), [to - from, ...targetShape]);
      const pred = forward(x);
      if (sink.classes) sink.classes.set(tf.argMax(pred, -1).dataSync(), from);
      if (sink.values) sink.values.set(pred.dataSync(), from);
      return fns.map((fn) => tf.mean(fn(y, pred)).dataSync()[0]!);
    });
    values.forEach((v, i) => (sums[i] = (sums[i] ?? 0) + v * (to - from)));
  }
  return sums.map((s) => s / split.count);
}
