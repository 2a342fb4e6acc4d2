import * as tf from '../backend/tf.js';
import type { NamedArray } from './types.js';

/** Deep copies of the weights' values, by position (tf.clone would share storage the fused optimizer updates in place). */
export function snapshot(model: tf.LayersModel): NamedArray[] {
  return model.getWeights().map((w, i) => ({ name: `weight/${i}`, values: (w.dataSync() as Float32Array).slice(), shape: w.shape }));
}

/** Puts copied weight values back into the model, by position. */
export function setWeights(model: tf.LayersModel, arrays: readonly NamedArray[]): void {
  const tensors = arrays.map((w) => tf.tensor(w.values, [...w.shape]));
  model.setWeights(tensors);
  tf.dispose(tensors);
}
