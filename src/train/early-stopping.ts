import type { EarlyStoppingSpec } from '../spec/types.js';
import type { EpochLogs } from './types.js';

/** Keras-style early stopping: stop after `patience` epochs without an improvement larger than minDelta. */
export class EarlyStopping {
  private readonly sign: 1 | -1;
  private wait = 0;
  best = Infinity;
  bestEpoch: number | undefined;

  constructor(private readonly spec: EarlyStoppingSpec) {
    const max = spec.mode === 'max' || (spec.mode === 'auto' && /accuracy|precision|recall/.test(spec.monitor));
    // Work on sign * value so that smaller is always better.
    this.sign = max ? -1 : 1;
  }

  /** Its progress, for a checkpoint. */
  toJSON(): Record<string, unknown> {
    return { wait: this.wait, best: this.best, bestEpoch: this.bestEpoch };
  }

  /** Continues from a checkpoint's progress. */
  restore(state: Record<string, unknown>): void {
    this.wait = Number(state['wait']);
    // JSON has no Infinity: a run that never improved saved best as null.
    this.best = typeof state['best'] === 'number' ? state['best'] : Infinity;
    this.bestEpoch = typeof state['bestEpoch'] === 'number' ? state['bestEpoch'] : undefined;
  }

  /** Records an epoch; returns whether it improved and whether training should stop. */
  update(logs: EpochLogs): { improved: boolean; stop: boolean } {
    const value = logs[this.spec.monitor];
    if (value === undefined || Number.isNaN(value)) throw new Error(`early stopping monitors '${this.spec.monitor}', which this run does not compute`);
    const current = this.sign * value;
    const improved = current < this.best - this.spec.minDelta;
    if (improved) {
      this.best = current;
      this.bestEpoch = logs.epoch;
      this.wait = 0;
    } else {
      this.wait++;
    }
    return { improved, stop: !improved && this.wait > this.spec.patience - 1 };
  }
}
