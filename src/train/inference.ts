import type * as tf from '../backend/tf.js';
import type { Features } from '../data/features.js';
import { predictRows } from './batches.js';

/** One input's prediction: the class and the top-k scores, or the value for a regression. */
export interface Prediction {
  readonly input: string;
  readonly class?: string;
  readonly value?: number;
  readonly top?: readonly { class: string; probability: number }[];
  /** The target's value when the input rows have it. */
  readonly actual?: string;
}

/** What a prediction needs of the trained model: its input shape, its classes, whether it predicts a number. */
export interface ModelOutputs { readonly inputShape: readonly number[]; readonly classNames: readonly string[]; readonly regression: boolean }

/** The model's prediction for each input (inference mode, the pass evaluate uses): the value, or the k most probable classes. */
export function predict(model: tf.LayersModel, x: Features, names: readonly string[], outputs: ModelOutputs, k: number, actual?: readonly (string | undefined)[]): Prediction[] {
  const rows = predictRows(model, x, names.length, outputs.inputShape);
  const size = rows.length / Math.max(1, names.length);
  return names.map((input, i) => {
    const row = rows.subarray(i * size, (i + 1) * size);
    const truth = actual?.[i] !== undefined ? { actual: actual[i] } : {};
    if (outputs.regression) return { input, value: row[0]!, ...truth };
    const ranked = [...row].map((p, c) => ({ class: outputs.classNames[c] ?? String(c), probability: p })).sort((a, b) => b.probability - a.probability);
    return { input, class: ranked[0]!.class, top: ranked.slice(0, k), ...truth };
  });
}
