import type { EpochRow, RunView } from './reader.js';

/** The named numbers of a run that compare shows and --fail-if gates test. */
export const VALUE_NAMES = [
  'test.accuracy', 'test.loss', 'test.f1', 'test.r2', 'test.mae', 'test.mse',
  'best.epoch', 'best.val_loss', 'best.val_accuracy',
  'final.loss', 'final.accuracy', 'final.val_loss', 'final.val_accuracy',
  'epochs', 'duration', 'fit_seconds', 'samples_per_second',
] as const;
export type ValueName = (typeof VALUE_NAMES)[number];

/** Whether a name read from a file is one of the run values. */
export const isValueName = (name: string): name is ValueName => (VALUE_NAMES as readonly string[]).includes(name);

/** The best.* and final.* values of these epochs (best: the epoch of lowest val_loss, or loss without validation). */
export function epochValues(rows: readonly EpochRow[]): Partial<Record<ValueName, number>> {
  const v: Partial<Record<ValueName, number>> = {};
  const put = (k: ValueName, x: unknown) => {
    if (typeof x === 'number' && Number.isFinite(x)) v[k] = x;
  };
  const key = rows.some((r) => r['val_loss'] !== undefined) ? 'val_loss' : 'loss';
  const best = rows.reduce<EpochRow | undefined>((b, r) => (b === undefined || r[key]! < b[key]! ? r : b), undefined);
  put('best.epoch', best?.['epoch']);
  put('best.val_loss', best?.['val_loss']);
  put('best.val_accuracy', best?.['val_accuracy']);
  const last = rows[rows.length - 1];
  for (const k of ['loss', 'accuracy', 'val_loss', 'val_accuracy'] as const) put(`final.${k}`, last?.[k]);
  return v;
}

/** Computes every value a run has; missing ones (a failed run has no test.*) are left out. */
export function runValues(run: RunView): Partial<Record<ValueName, number>> {
  const v: Partial<Record<ValueName, number>> = {};
  const put = (k: ValueName, x: unknown) => {
    if (typeof x === 'number' && Number.isFinite(x)) v[k] = x;
  };
  put('test.accuracy', run.summary?.['accuracy']);
  put('test.loss', run.summary?.['loss']);
  put('test.f1', run.summary?.['macroAvg']?.f1);
  for (const k of ['r2', 'mae', 'mse'] as const) put(`test.${k}`, run.summary?.[k]);
  const rows = run.metrics;
  Object.assign(v, epochValues(rows));
  if (rows.length) put('epochs', rows.length);
  if (typeof run.record.durationMs === 'number') put('duration', run.record.durationMs / 1000);
  const fitSeconds = rows.reduce((a, r) => a + (r['seconds'] ?? 0), 0);
  if (rows.length) put('fit_seconds', fitSeconds);
  const trainCount = run.record.data?.counts.train;
  if (typeof trainCount === 'number' && fitSeconds > 0) put('samples_per_second', (trainCount * rows.length) / fitSeconds);
  return v;
}
