import type { SpecProblem } from '../core/errors.js';
import type { LoadedSpec } from '../spec/load.js';
import type { Override } from '../spec/overrides.js';
import type { SweepSpec } from '../spec/sweep-types.js';
import type { SchedulerConfig } from './scheduler.js';

/** The metrics a scheduler may rank rungs by: validation values a run records every epoch. */
export const RUNG_METRICS = ['best.val_accuracy', 'best.val_loss', 'final.val_accuracy', 'final.val_loss'];

/**
 * What an adaptive scheduler needs of the spec, each problem at its line: a validation split and a
 * per-epoch validation metric to rank rungs by, min below max, and train.epochs left to the scheduler.
 */
export function schedulerProblems(base: LoadedSpec, sweep: SweepSpec, cfg: SchedulerConfig, set: readonly Override[]): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const block = ['sweep', 'scheduler', cfg.kind];
  // A key the spec leaves to its default has no line: point at the nearest key written.
  const at = (path: readonly (string | number)[], message: string): SpecProblem => {
    for (let n = path.length; n > 0; n--) {
      const p = base.problemAt(path.slice(0, n), message);
      if (p.line !== undefined || p.source !== undefined) return { ...p, path: path.join('.') };
    }
    return { path: path.join('.'), message };
  };
  if (cfg.min >= cfg.max) problems.push(at([...block, 'min'], `min (${cfg.min}) must be below max (${cfg.max}) epochs`));
  const split = (base.spec.data as { validationSplit?: number }).validationSplit ?? 0;
  if (!(split > 0)) problems.push(at(['data', 'validationSplit'], `the ${cfg.kind} scheduler ranks trials on validation data: set data.validationSplit above 0 (e.g. 0.1)`));
  const metric = sweep.metric.name;
  if (!RUNG_METRICS.includes(metric)) {
    problems.push(at(['sweep', 'metric', 'name'], `the ${cfg.kind} scheduler ranks trials at every rung by a validation value recorded each epoch (${RUNG_METRICS.join(', ')}), not '${metric}'; test scores must not choose models`));
  } else if (metric.endsWith('accuracy') && !base.spec.compile.metrics.includes('accuracy')) {
    problems.push(at(['compile', 'metrics'], `sweep.metric ${metric} needs accuracy among compile.metrics`));
  }
  const epochsSwept = Object.keys(sweep.parameters).some((k) => k === 'train.epochs');
  if (epochsSwept) problems.push(at(['sweep', 'parameters', 'train.epochs'], `the ${cfg.kind} scheduler sets train.epochs (its resource, up to max ${cfg.max}); do not sweep it`));
  for (const o of set) {
    if (o.path.join('.') === 'train.epochs') problems.push({ path: 'train.epochs', source: `--set ${o.text}`, message: `the ${cfg.kind} scheduler sets train.epochs to its max (${cfg.max}); change sweep.scheduler.${cfg.kind}.max instead` });
  }
  return problems;
}
