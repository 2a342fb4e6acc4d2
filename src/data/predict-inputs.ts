import type { Limits } from '../core/limits.js';
import type { Features } from './features.js';

/** New inputs for a trained model, as its preprocessing turns them into features: one name per example, and the true value when the rows have it. */
export interface PredictInputs {
  readonly x: Features;
  readonly names: readonly string[];
  readonly actual?: readonly (string | undefined)[];
}

/** How inputs are read: the model they are for (for messages), image options, and where warnings go. */
export interface InputOptions {
  /** The run the model comes from, for messages. */
  readonly model: string;
  /** The shape of one example as the data gave it (before preprocessing reshaped it). */
  readonly exampleShape?: readonly number[];
  /** Invert image brightness (dark strokes on a light background). */
  readonly invert?: boolean;
  readonly warn?: (msg: string) => void;
  /** How large a file or image may be. */
  readonly limits: Limits;
}
