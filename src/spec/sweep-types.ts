/** The `sweep:` block of a spec: what `runner sweep` reads, `runner run` ignores. */

/** How a sampled (method random) parameter is drawn. */
export type SweepValues = unknown[] | { uniform: [number, number] } | { logUniform: [number, number] } | { int: [number, number] } | { choice: unknown[] };

/** The `sweep:` block: variants of the experiment for `runner sweep`. */
export interface SweepSpec {
  method: 'grid' | 'random';
  parameters: Record<string, SweepValues>;
  seeds?: number[];
  trials: number;
  /** Same as trials (the name Optuna and W&B use). */
  samples?: number;
  seed: number;
  metric: { name: string; goal: 'maximize' | 'minimize' };
  /** An adaptive scheduler (one key): trials stop at rungs, the best go on from their checkpoints. */
  scheduler?: { asha?: SchedulerBudget; hyperband?: SchedulerBudget };
}

/** A scheduler's budget: rungs at min * reductionFactor^k epochs, up to max. */
export interface SchedulerBudget { resource: 'train.epochs'; min: number; max: number; reductionFactor: number }
