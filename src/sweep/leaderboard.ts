import { join } from 'node:path';
import { writeFileAtomic } from '../core/files.js';
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
  /** Adaptive sweeps: the epochs its runs trained, and whether they were stopped at a rung (else trained to the end). */
  epochs?: number;
  stopped?: boolean;
}

export interface Leaderboard {
  formatVersion: 1;
  sweep: string;
  metric: string;
  goal: 'maximize' | 'minimize';
  trials: number;
  rows: LeaderboardRow[];
  /** Adaptive sweeps: epochs trained over all trials, against the same trials trained to max as a grid. */
  budget?: { scheduler: 'asha' | 'hyperband'; epochs: number; grid: number };
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
  const { metric, goal, scheduler } = metas[0]!;
  // An adaptive sweep's trial stopped at a rung has its value there: it ranks below those trained further.
  const usable = (r: RunView) => r.status === 'completed' || (scheduler !== undefined && r.status === 'stopped');
  if (!isValueName(metric)) throw new RunnerError(`the trials of sweep ${ids[0]} rank by '${metric}', which is not a run value (run.json edited by hand?)`);
  // Latest run of each trial; a completed run wins over later failed retries of the same trial.
  const byTrial = new Map<string, RunView>();
  for (const r of [...trialRuns].sort((a, b) => String(a.record.startedAt).localeCompare(String(b.record.startedAt)))) {
    const prev = byTrial.get(r.record.specHash);
    if (!prev || !usable(prev) || usable(r)) byTrial.set(r.record.specHash, r);
  }
  const groups = new Map<string, RunView[]>();
  const failed: Leaderboard['failed'] = [];
  for (const [trial, r] of byTrial) {
    const value = runValues(r)[metric];
    if (!usable(r) || value === undefined) {
      failed.push({ trial, run: r.id, status: r.status, error: String(r.record.error?.message ?? `no ${metric}`), params: r.record.sweep!.params, seed: r.record.seed });
      continue;
    }
    const key = scheduler ? `${r.record.variantHash}@${r.metrics.length}` : r.record.variantHash;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rows = [...groups.values()].map((rs): LeaderboardRow => {
    const sorted = [...rs].sort((a, b) => a.record.seed - b.record.seed);
    const values = sorted.map((r) => runValues(r)[metric]!);
    const first = sorted[0]!;
    const adaptive = scheduler ? { epochs: first.metrics.length, stopped: first.status === 'stopped' } : {};
    return { rank: 0, variant: first.record.variantHash, params: first.record.sweep!.params, seeds: sorted.map((r) => r.record.seed), n: values.length, ...stats(values), min: Math.min(...values), max: Math.max(...values), runs: sorted.map((r) => r.id), ...adaptive };
  });
  rows.sort((a, b) => (b.epochs ?? 0) - (a.epochs ?? 0) || (goal === 'maximize' ? b.mean - a.mean : a.mean - b.mean) || a.variant.localeCompare(b.variant));
  rows.forEach((r, i) => (r.rank = i + 1));
  const budget = scheduler ? { budget: { scheduler: scheduler.kind, epochs: [...byTrial.values()].reduce((a, r) => a + r.metrics.length, 0), grid: byTrial.size * scheduler.max } } : {};
  return { formatVersion: 1, sweep: ids[0]!, metric, goal, trials: byTrial.size, rows, ...budget, failed: failed.sort((a, b) => a.trial.localeCompare(b.trial)) };
}

/** Builds the sweep's leaderboard from its trial runs and writes leaderboard.json and .md into its folder; undefined before any trial ran. */
export function writeLeaderboardFiles(dir: string, sweepId: string): Leaderboard | undefined {
  const runs = findRunDirs(dir, 1).map(readRun).filter((r) => r.record.sweep?.id === sweepId);
  if (!runs.length) return undefined;
  const leaderboard = buildLeaderboard(runs);
  writeFileAtomic(join(dir, 'leaderboard.json'), `${JSON.stringify(leaderboard, null, 2)}\n`);
  writeFileAtomic(join(dir, 'leaderboard.md'), formatLeaderboard(leaderboard, 'md'));
  return leaderboard;
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
  const { keys, adaptive, title, head, rows, failedLines } = leaderboardCells(lb);
  if (format === 'csv') {
    return csv([['rank', ...keys, ...(adaptive ? ['epochs', 'stopped'] : []), 'n', 'seeds', `mean ${lb.metric}`, 'std', 'min', 'max', 'runs'],
      ...lb.rows.map((r) => [r.rank, ...keys.map((k) => r.params[k]), ...(adaptive ? [r.epochs, r.stopped] : []), r.n, r.seeds.join(' '), r.mean, r.std, r.min, r.max, r.runs.join(' ')])]);
  }
  if (format === 'md') {
    const out = [`**${title}**`, '', markdownTable([head, ...rows], ['r', ...keys.map(() => 'l' as const), ...(adaptive ? ['r' as const] : []), 'r', 'r'])];
    if (failedLines.length) out.push('', '**failed trials**', '', ...failedLines.map((l) => `- ${l}`));
    return `${out.join('\n')}\n`;
  }
  const out = [title, '', textTable([head, ...rows])];
  if (failedLines.length) out.push('', 'failed trials:', ...failedLines.map((l) => `  ${l}`));
  return `${out.join('\n')}\n`;
}

/** The leaderboard as text cells: its title line, the table's head and rows, and a line per failed trial (the terminal, markdown and HTML show these). */
export function leaderboardCells(lb: Leaderboard) {
  const keys = [...new Set(lb.rows.flatMap((r) => Object.keys(r.params)).concat(lb.failed.flatMap((f) => Object.keys(f.params))))];
  const adaptive = lb.budget !== undefined;
  const epochsCell = (r: LeaderboardRow) => (adaptive ? [`${r.epochs}${r.stopped ? ' (stopped)' : ''}`] : []);
  const head = ['#', ...keys, ...(adaptive ? ['epochs'] : []), 'seeds', `${lb.metric} (mean +/- std)`];
  const rows = lb.rows.map((r) => [String(r.rank), ...keys.map((k) => cellText(r.params[k])), ...epochsCell(r), String(r.n), `${r.mean.toFixed(4)} +/- ${r.std.toFixed(4)}`]);
  const spent = lb.budget ? `; ${lb.budget.scheduler}: ${lb.budget.epochs} epochs trained, against ${lb.budget.grid} for these trials as a grid (${((100 * lb.budget.epochs) / lb.budget.grid).toFixed(1)}%)` : '';
  const title = `sweep ${lb.sweep}: ${lb.rows.length} variant(s), ${lb.trials} trial(s), ranked by ${adaptive ? 'epochs trained, then ' : ''}${lb.metric} (${lb.goal})${spent}`;
  const failedLines = lb.failed.map((f) => `${f.status} ${f.run} (seed ${f.seed}, ${keys.map((k) => `${k}=${cellText(f.params[k])}`).join(', ')}): ${f.error}`);
  return { keys, adaptive, title, head, rows, failedLines };
}
