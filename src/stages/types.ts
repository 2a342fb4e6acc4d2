import type * as tf from '../backend/tf.js';
import type { EpochLogs } from '../train/types.js';

export interface ModelOutput { readonly model: tf.LayersModel }

export interface FitOutput {
  readonly model: tf.LayersModel;
  readonly history: readonly EpochLogs[];
  readonly stoppedEarly: boolean;
  readonly bestEpoch?: number;
}

/** What evaluate writes to summary.json: test loss and metrics, and the confusion matrix and per-class scores it was asked for. */
export type TestSummary = Record<string, unknown>;
