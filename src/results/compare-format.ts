import { basename } from 'node:path';
import { safeText } from '../core/text.js';
import { csv, duration, markdownTable, sparkline, textTable } from './tables.js';
import type { Comparison, ComparedRun } from './compare.js';
import { runSuffix } from '../runs/run-dir.js';
import { VALUE_NAMES, type ValueName } from '../runs/values.js';

export type CompareFormat = 'table' | 'md' | 'json' | 'csv';

/** The values compare shows by default, in this order. */
const SHOWN: readonly ValueName[] = [
  'test.accuracy', 'test.loss', 'test.f1', 'test.r2', 'test.mae', 'test.mse', 'best.epoch', 'best.val_loss', 'best.val_accuracy',
  'final.loss', 'epochs', 'duration', 'samples_per_second',
];

const label = (r: ComparedRun) => `${runSuffix(r.id)}${r.baseline ? ' (base)' : ''}`;

/** A value as people read it: 4 decimals for scores, whole epochs, seconds, samples/s. */
function formatValue(name: ValueName, v: number | undefined): string {
  if (v === undefined) return 'n/a';
  if (name === 'duration' || name === 'fit_seconds') return duration(v);
  if (name === 'epochs' || name === 'best.epoch') return String(v);
  if (name === 'samples_per_second') return Math.round(v).toLocaleString('en-US');
  return v.toFixed(4);
}

function formatDelta(name: ValueName, r: ComparedRun): string {
  const d = r.deltas[name];
  if (r.baseline || d === undefined) return '';
  const base = (r.values[name] ?? 0) - d;
  if (name === 'duration' || name === 'fit_seconds' || name === 'samples_per_second') {
    return base ? ` (${d >= 0 ? '+' : ''}${((d / base) * 100).toFixed(0)}%)` : '';
  }
  if (name === 'epochs' || name === 'best.epoch') return d ? ` (${d > 0 ? '+' : ''}${d})` : '';
  return ` (${d >= 0 ? '+' : ''}${d.toFixed(4)})`;
}

const cellOf = (v: unknown) => (typeof v === 'string' ? v : v === undefined ? '-' : JSON.stringify(v));

/** The three tables of a comparison as rows of text (terminal, markdown and the HTML report share them). */
export function formatComparisonRows(c: Comparison) {
  const runs = c.runs;
  const params = [['param', ...runs.map(label)], ...c.params.map((p) => [p.key, ...p.values.map(cellOf)])];
  const curves = runs.flatMap((r) => r.curve.values);
  const [lo, hi] = [Math.min(...curves), Math.max(...curves)];
  const metrics = [
    ['metric', ...runs.map(label)],
    // A value no run has (accuracy of regressions, R^2 of classifiers) is left out.
    ...SHOWN.filter((n) => runs.some((r) => r.values[n] !== undefined)).map((n) => [n, ...runs.map((r) => formatValue(n, r.values[n]) + formatDelta(n, r))]),
    [`curve (${runs[0]!.curve.metric})`, ...runs.map((r) => sparkline(r.curve.values, lo, hi) || '-')],
  ];
  // Copied run folders keep their id: then the folder tells them apart.
  const shared = new Set(runs.map((r) => r.id).filter((id, i, all) => all.indexOf(id) !== i));
  const runRows = [['run', 'id', 'name', 'status', 'backend'], ...runs.map((r) => [label(r), shared.has(r.id) ? `${r.id} (${basename(r.dir)})` : r.id, r.name, r.status, r.backend ?? '-'])];
  return { params, metrics, runRows };
}

function gateLines(c: Comparison): string[] {
  return c.gates.map((g) => `${g.broken ? 'FAIL' : 'pass'} ${g.run}: ${g.expr}  (${g.detail})`);
}

/** Renders a comparison in one of the four formats. */
export function formatComparison(c: Comparison, format: CompareFormat): string {
  if (format === 'json') return `${JSON.stringify(c, null, 2)}\n`;
  if (format === 'csv') return comparisonCsv(c);
  const { params, metrics, runRows } = formatComparisonRows(c);
  if (format === 'md') {
    const out = [`**runner compare** (baseline \`${safeText(c.baseline)}\`)`, '', markdownTable(runRows), ''];
    out.push(c.params.length ? markdownTable(params) : '_No spec values differ._', '');
    out.push(markdownTable(metrics.map((r, i) => (i === metrics.length - 1 ? [r[0]!, ...r.slice(1).map((s) => `\`${s}\``)] : r)), ['l', ...c.runs.map(() => 'r' as const)]));
    if (c.warnings.length) out.push('', ...c.warnings.map((w) => `> :warning: ${safeText(w)}`));
    if (c.gates.length) out.push('', ...gateLines(c).map((l) => `- ${l.startsWith('FAIL') ? ':x:' : ':white_check_mark:'} ${safeText(l)}`));
    return `${out.join('\n')}\n`;
  }
  const out = [textTable(runRows), ''];
  out.push(c.params.length ? textTable(params) : 'no spec values differ', '');
  out.push(textTable(metrics));
  if (c.warnings.length) out.push('', 'warnings:', ...c.warnings.map((w) => `  ${safeText(w)}`));
  if (c.gates.length) out.push('', ...gateLines(c).map(safeText));
  return `${out.join('\n')}\n`;
}

/** One row per run: identity, changed params, values, deltas. */
function comparisonCsv(c: Comparison): string {
  const header = ['id', 'name', 'status', 'baseline', 'backend', ...c.params.map((p) => `param:${p.key}`), ...VALUE_NAMES, ...VALUE_NAMES.map((n) => `delta:${n}`)];
  const rows = c.runs.map((r, i) => [
    r.id, r.name, r.status, r.baseline, r.backend,
    ...c.params.map((p) => p.values[i]),
    ...VALUE_NAMES.map((n) => r.values[n]),
    ...VALUE_NAMES.map((n) => (r.baseline ? undefined : r.deltas[n])),
  ]);
  return csv([header, ...rows]);
}
