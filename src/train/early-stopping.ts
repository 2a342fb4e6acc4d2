import type { EarlyStoppingSpec } from '../spec/types.js';
import type { EpochLogs } from './types.js';

/** The best value so far of one epoch metric (Keras's monitor, mode and min_delta): which epoch improved it. */
export class BestValue {
  private readonly sign: 1 | -1;
  /** sign * the best value: smaller is always better. */
  best = Infinity;
  bestEpoch: number | undefined;

  constructor(readonly monitor: string, mode: 'auto' | 'min' | 'max', private readonly minDelta: number) {
    const max = mode === 'max' || (mode === 'auto' && /accuracy|precision|recall/.test(monitor));
    this.sign = max ? -1 : 1;
  }

  /** Records an epoch; true when it improved on the best by more than minDelta. */
  update(logs: EpochLogs): boolean {
    const value = logs[this.monitor];
    if (value === undefined || Number.isNaN(value)) throw new Error(`early stopping monitors '${this.monitor}', which this run does not compute`);
    const current = this.sign * value;
    if (!(current < this.best - this.minDelta)) return false;
    this.best = current;
    this.bestEpoch = logs.epoch;
    return true;
  }

  /** Its progress, for a checkpoint. */
  toJSON(): { best: number; bestEpoch: number | undefined } {
    return { best: this.best, bestEpoch: this.bestEpoch };
  }

  /** Continues from a checkpoint's progress. */
  restore(state: Record<string, unknown>): void {
    // JSON has no Infinity: a run that never improved saved best as null.
    this.best = typeof state['best'] === 'number' ? state['best'] : Infinity;
    this.bestEpoch = typeof state['bestEpoch'] === 'number' ? state['bestEpoch'] : undefined;
  }
}

/** Keras-style early stopping: stop after `patience` epochs without an improvement larger than minDelta. */
export class EarlyStopping {
  readonly best: BestValue;
  private wait = 0;

  constructor(private readonly spec: EarlyStoppingSpec) {
    this.best = new BestValue(spec.monitor, spec.mode, spec.minDelta);
  }

  get bestEpoch(): number | undefined {
    return this.best.bestEpoch;
  }

  /** Records an epoch; returns whether it improved and whether training should stop. */
  update(logs: EpochLogs): { improved: boolean; stop: boolean } {
    const improved = this.best.update(logs);
    this.wait = improved ? 0 : this.wait + 1;
    return { improved, stop: !improved && this.wait > this.spec.patience - 1 };
  }

  /** Its progress, for a checkpoint. */
  toJSON(): Record<string, unknown> {
    return { wait: this.wait, ...this.best.toJSON() };
  }

  /** Continues from a checkpoint's progress. */
  restore(state: Record<string, unknown>): void {
    this.wait = Number(state['wait']);
    this.best.restore(state);
  }
}
