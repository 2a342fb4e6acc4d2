import type * as tf from '../backend/tf.js';
import type { EpochLogs } from '../train/types.js';

export interface ModelOutput { readonly model: tf.LayersModel }

export interface FitOutput {
  readonly model: tf.LayersModel;
  readonly history: readonly EpochLogs[];
  readonly stoppedEarly: boolean;
  readonly bestEpoch?: number;
}
