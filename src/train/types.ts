/** A float32 array with its name and shape: how weights and optimizer slots go into a checkpoint. */
export interface NamedArray { readonly name: string; readonly shape: readonly number[]; readonly values: Float32Array }

/** The optimizer's whole state: its slot arrays (moments, accumulators) and scalars (step counts, beta powers). */
export interface OptimizerState {
  readonly arrays: readonly NamedArray[];
  readonly scalars: Readonly<Record<string, number>>;
  /** Why the state could not be saved (tfjs's adamax has no getWeights): a resume then restarts the optimizer. */
  readonly missing?: string;
}

/** One row of metrics.jsonl: epoch, loss, each compiled metric and its val_ twin, lr when scheduled, seconds. */
export interface EpochLogs {
  epoch: number;
  loss: number;
  seconds: number;
  [metric: string]: number;
}
