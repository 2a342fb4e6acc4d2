import { RunnerError } from '../core/errors.js';
import { checkNames, evaluate, MissingValue, parseGate, exprSource, type Expr } from './gate.js';
import type { RunRecord } from '../runs/record.js';
import type { RunView } from '../runs/reader.js';
import { runValues, VALUE_NAMES, type ValueName } from '../runs/values.js';

/** Version of the `--format json` layout (documented in the README). */
export const COMPARE_FORMAT = 1;

export interface ComparedRun {
  id: string;
  name: string;
  status: string;
  dir: string;
  baseline: boolean;
  backend: string | null;
  values: Partial<Record<ValueName, number>>;
  /** value - baseline value, where both exist. */
  deltas: Partial<Record<ValueName, number>>;
  /** The learning curve shown as a sparkline: val_loss per epoch (loss when there is no validation). */
  curve: { metric: string; values: number[] };
}

export interface ParamRow { key: string; values: unknown[]; changed: boolean }
export interface GateResult { expr: string; run: string; broken: boolean; detail: string }

/** Everything `runner compare` shows, in every format. */
export interface Comparison {
  formatVersion: number;
  baseline: string;
  runs: ComparedRun[];
  params: ParamRow[];
  warnings: string[];
  gates: GateResult[];
}

/** Flattens a resolved spec into key paths: model.layers[0].dense.units -> 128. */
export function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (Array.isArray(value) && value.some((v) => v !== null && typeof v === 'object')) {
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out[prefix] = value;
  }
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Builds the comparison of runs against the baseline (index `base`), evaluating any gates. */
export function compareRuns(runs: readonly RunView[], base: number, opts: { all?: boolean; gates?: readonly string[] } = {}): Comparison {
  if (runs.length < 2) throw new RunnerError(`compare needs at least two runs, got ${runs.length}`, 2, ['e.g. runner compare runs/*  or  runner compare <id> <id>']);
  const values = runs.map(runValues);
  const baseValues = values[base]!;
  const flat = runs.map((r) => flatten(r.spec));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].filter((k) => k !== 'name' && k !== 'description');
  const params = keys
    .map((key) => {
      const vals = flat.map((f) => f[key]);
      return { key, values: vals, changed: vals.some((v) => !same(v, vals[base])) };
    })
    .filter((p) => opts.all || p.changed);
  const compared = runs.map((r, i): ComparedRun => {
    const deltas: Partial<Record<ValueName, number>> = {};
    for (const k of VALUE_NAMES) {
      const v = values[i]![k];
      const b = baseValues[k];
      if (v !== undefined && b !== undefined) deltas[k] = v - b;
    }
    const hasVal = r.metrics.some((m) => m['val_loss'] !== undefined);
    const metric = hasVal ? 'val_loss' : 'loss';
    return {
      id: r.id, name: r.name, status: r.status, dir: r.dir, baseline: i === base,
      backend: r.record.backend.used ?? null,
      values: values[i]!, deltas,
      curve: { metric, values: r.metrics.map((m) => m[metric]!).filter((v) => typeof v === 'number') },
    };
  });
  return {
    formatVersion: COMPARE_FORMAT,
    baseline: runs[base]!.id,
    runs: compared,
    params,
    warnings: comparabilityWarnings(runs, base),
    gates: (opts.gates ?? []).flatMap((g) => runGate(g, compared, base)),
  };
}

/** Differences that make a comparison misleading: data, backend, versions. */
function comparabilityWarnings(runs: readonly RunView[], base: number): string[] {
  const b = runs[base]!.record;
  const out: string[] = [];
  const checks: [string, (r: RunRecord) => unknown][] = [
    ['data fingerprint', (r) => r.data?.sha256],
    ['data source', (r) => r.data && `${r.data.dataset} (${r.data.source})`],
    ['backend', (r) => r.backend.used],
    ['runner version', (r) => r.versions?.runner],
    ['tfjs version', (r) => r.versions?.tfjs],
  ];
  for (const [what, get] of checks) {
    for (const r of runs) {
      if (r.record === b || same(get(r.record), get(b))) continue;
      out.push(`${r.id}: ${what} differs from the baseline (${String(get(r.record) ?? 'unknown')} vs ${String(get(b) ?? 'unknown')})`);
    }
  }
  for (const r of runs) if (r.status !== 'completed') out.push(`${r.id}: status is ${r.status}; its values are partial`);
  for (const r of runs) for (const p of r.problems) out.push(`${r.id}: ${p}`);
  const embedded = runs.filter((r) => r.record.data?.embedded);
  if (embedded.length === runs.length) out.push('all runs trained on the embedded 10,000 MNIST digits, not full MNIST');
  else for (const r of embedded) out.push(`${r.id}: trained on the embedded 10,000 MNIST digits, not full MNIST`);
  return [...new Set(out)];
}

/** Evaluates one --fail-if gate on every run but the baseline. */
function runGate(src: string, runs: readonly ComparedRun[], base: number): GateResult[] {
  const expr = parseGate(src);
  checkNames(src, expr, [...VALUE_NAMES, ...VALUE_NAMES.map((n) => `baseline.${n}`)]);
  return runs.filter((_, i) => i !== base).map((run) => {
    const lookup = (name: string) => (name.startsWith('baseline.') ? runs[base]!.values[name.slice(9) as ValueName] : run.values[name as ValueName]);
    try {
      const broken = Boolean(evaluate(expr, lookup));
      return { expr: src, run: run.id, broken, detail: explain(expr, lookup) };
    } catch (err) {
      if (!(err instanceof MissingValue)) throw err;
      // A run that cannot be judged (e.g. it failed and has no test metrics) must not pass a CI gate.
      return { expr: src, run: run.id, broken: true, detail: `${err.valueName.startsWith('baseline.') ? 'the baseline' : 'the run'} has no ${err.valueName} (status ${err.valueName.startsWith('baseline.') ? runs[base]!.status : run.status})` };
    }
  });
}

/** `test.accuracy = 0.9012, baseline.test.accuracy - 0.005 = 0.9275` for a comparison at the top. */
function explain(e: Expr, lookup: (n: string) => number | undefined): string {
  const parts = e.kind === 'binary' && !['and', 'or'].includes(e.op) ? [e.left, e.right] : [e];
  return parts.filter((p) => p.kind !== 'num').map((p) => `${exprSource(p)} = ${fmt(Number(evaluate(p, lookup)))}`).join(', ');
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/0+$/, ''));
