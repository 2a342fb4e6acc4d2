import { csv, markdownTable, textTable } from '../results/tables.js';
import { RunnerError } from '../core/errors.js';
import { findRunDirs, readRun, type RunView } from '../runs/reader.js';
import { isValueName, runValues } from '../runs/values.js';

/** One variant: its parameters and the metric over its seeds. */
export interface LeaderboardRow {
  rank: number;
  variant: string;
  params: Record<string, unknown>;
  seeds: number[];
  n: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  runs: string[];
}

export interface Leaderboard {
  formatVersion: 1;
  sweep: string;
  metric: string;
  goal: 'maximize' | 'minimize';
  trials: number;
  rows: LeaderboardRow[];
  failed: { trial: string; run: string; status: string; error: string; params: Record<string, unknown>; seed: number }[];
}

/** Sample mean and standard deviation (n - 1; 0 for one value). */
function stats(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.length > 1 ? xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}

/** Groups a sweep's trial runs by variant (everything but the seed) and ranks them by the sweep metric. */
export function buildLeaderboard(runs: readonly RunView[]): Leaderboard {
  const trialRuns = runs.filter((r) => r.record.sweep);
  if (trialRuns.length === 0) throw new RunnerError('no sweep trials found: these run folders were not made by runner sweep');
  const metas = trialRuns.map((r) => r.record.sweep!);
  const ids = [...new Set(metas.map((m) => m.id))];
  if (ids.length > 1) throw new RunnerError(`these runs belong to ${ids.length} different sweeps (${ids.join(', ')}); report one sweep at a time`);
  const { metric, goal } = metas[0]!;
  if (!isValueName(metric)) throw new RunnerError(`the trials of sweep ${ids[0]} rank by '${metric}', which is not a run value (run.json edited by hand?)`);
  // Latest run of each trial; a completed run wins over later failed retries of the same trial.
  const byTrial = new Map<string, RunView>();
  for (const r of [...trialRuns].sort((a, b) => String(a.record.startedAt).localeCompare(String(b.record.startedAt)))) {
    const prev = byTrial.get(r.record.specHash);
    if (!prev || prev.status !== 'completed' || r.status === 'completed') byTrial.set(r.record.specHash, r);
  }
  const groups = new Map<string, RunView[]>();
  const failed: Leaderboard['failed'] = [];
  for (const [trial, r] of byTrial) {
    const value = runValues(r)[metric];
    if (r.status !== 'completed' || value === undefined) {
      failed.push({ trial, run: r.id, status: r.status, error: String(r.record.error?.message ?? `no ${metric}`), params: r.record.sweep!.params, seed: r.record.seed });
      continue;
    }
    groups.set(r.record.variantHash, [...(groups.get(r.record.variantHash) ?? []), r]);
  }
  const rows = [...groups.entries()].map(([variant, rs]): LeaderboardRow => {
    const sorted = [...rs].sort((a, b) => a.record.seed - b.record.seed);
    const values = sorted.map((r) => runValues(r)[metric]!);
    return { rank: 0, variant, params: sorted[0]!.record.sweep!.params, seeds: sorted.map((r) => r.record.seed), n: values.length, ...stats(values), min: Math.min(...values), max: Math.max(...values), runs: sorted.map((r) => r.id) };
  });
  rows.sort((a, b) => (goal === 'maximize' ? b.mean - a.mean : a.mean - b.mean) || a.variant.localeCompare(b.variant));
  rows.forEach((r, i) => (r.rank = i + 1));
  return { formatVersion: 1, sweep: ids[0]!, metric, goal, trials: byTrial.size, rows, failed: failed.sort((a, b) => a.trial.localeCompare(b.trial)) };
}

/** Leaderboard of the sweep trials found under a folder (`runner sweep --report`). */
export function leaderboardOf(dir: string): Leaderboard {
  const dirs = findRunDirs(dir);
  if (dirs.length === 0) throw new RunnerError(`no run folders under '${dir}'`);
  return buildLeaderboard(dirs.map(readRun));
}

/** A parameter value in a table cell: text as is, anything else as JSON. */
const cellText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** Renders a leaderboard as table, md, json or csv. */
export function formatLeaderboard(lb: Leaderboard, format: 'table' | 'md' | 'json' | 'csv'): string {
  if (format === 'json') return `${JSON.stringify(lb, null, 2)}\n`;
  const keys = [...new Set(lb.rows.flatMap((r) => Object.keys(r.params)).concat(lb.failed.flatMap((f) => Object.keys(f.params))))];
  if (format === 'csv') {
    return csv([['rank', ...keys, 'n', 'seeds', `mean ${lb.metric}`, 'std', 'min', 'max', 'runs'],
      ...lb.rows.map((r) => [r.rank, ...keys.map((k) => r.params[k]), r.n, r.seeds.join(' '), r.mean, r.std, r.min, r.max, r.runs.join(' ')])]);
  }
  const head = ['#', ...keys, 'seeds', `${lb.metric} (mean +/- std)`];
  const rows = lb.rows.map((r) => [String(r.rank), ...keys.map((k) => cellText(r.params[k])), String(r.n), `${r.mean.toFixed(4)} +/- ${r.std.toFixed(4)}`]);
  const title = `sweep ${lb.sweep}: ${lb.rows.length} variant(s), ${lb.trials} trial(s), ranked by ${lb.metric} (${lb.goal})`;
  const failedLines = lb.failed.map((f) => `${f.status} ${f.run} (seed ${f.seed}, ${keys.map((k) => `${k}=${cellText(f.params[k])}`).join(', ')}): ${f.error}`);
  if (format === 'md') {
    const out = [`**${title}**`, '', markdownTable([head, ...rows], ['r', ...keys.map(() => 'l' as const), 'r', 'r'])];
    if (failedLines.length) out.push('', '**failed trials**', '', ...failedLines.map((l) => `- ${l}`));
    return `${out.join('\n')}\n`;
  }
  const out = [title, '', textTable([head, ...rows])];
  if (failedLines.length) out.push('', 'failed trials:', ...failedLines.map((l) => `  ${l}`));
  return `${out.join('\n')}\n`;
}
