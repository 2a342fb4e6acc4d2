import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { toJson, writeFileAtomic } from '../core/files.js';
import { findRunDirs, buildLeaderboard, formatLeaderboard, type Leaderboard, type SweepMeta } from './leaderboard.js';
import { readRun, type RunView } from '../runs/reader.js';
import type { Override } from '../spec/overrides.js';
import type { ValueName } from '../runs/values.js';
import { shardOf, type SweepPlan, type Trial } from './plan.js';

const BIN = fileURLToPath(new URL('../../bin/runner.js', import.meta.url));

export type TrialState = 'done' | 'todo' | 'other shard';

/** A trial with where it stands: already completed here, to run, or another shard's. */
export interface PlannedTrial { trial: Trial; shard: number; state: TrialState; previous?: RunView }

/** What happened to one trial this time. */
export interface TrialOutcome { trial: Trial; status: 'completed' | 'failed' | 'interrupted' | 'skipped'; run?: string; error?: string }

export interface SweepOptions {
  readonly out: string;
  readonly jobs: number;
  readonly shard?: { index: number; total: number };
  readonly failFast?: boolean;
  readonly backend?: string;
  /** Trials recompute load and normalize (runner run --no-cache). */
  readonly noCache?: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent?: (line: string) => void;
}

/** The sweep folder: `<out>/<sweep id>/`, holding the trials' run folders, sweep.json and the leaderboard. */
export function sweepDir(plan: SweepPlan, out: string): string {
  return resolve(out, plan.id);
}

/** Marks each trial done (a completed run of it exists in the sweep folder), to do, or another shard's. */
export function triage(plan: SweepPlan, opts: Pick<SweepOptions, 'out' | 'shard'>): PlannedTrial[] {
  const existing = new Map<string, RunView>();
  for (const dir of findRunDirs(sweepDir(plan, opts.out), 1)) {
    const run = readRun(dir);
    const hash = run.record['specHash'] as string;
    if (run.status === 'completed' || !existing.has(hash)) existing.set(hash, run);
  }
  return plan.trials.map((trial) => {
    const shard = opts.shard ? shardOf(trial.hash, opts.shard.total) : 1;
    const previous = existing.get(trial.hash);
    const state: TrialState = opts.shard && shard !== opts.shard.index ? 'other shard' : previous?.status === 'completed' ? 'done' : 'todo';
    return { trial, shard, state, previous };
  });
}

/** Runs the sweep's remaining trials, `jobs` at a time, each in its own process; returns every trial's outcome. */
export async function runSweep(plan: SweepPlan, opts: SweepOptions): Promise<{ outcomes: TrialOutcome[]; leaderboard?: Leaderboard; dir: string }> {
  const dir = sweepDir(plan, opts.out);
  mkdirSync(dir, { recursive: true });
  const planned = triage(plan, opts);
  const todo = planned.filter((p) => p.state === 'todo');
  const outcomes = new Map<string, TrialOutcome>();
  const stop = new AbortController();
  opts.signal?.addEventListener('abort', () => stop.abort());
  const record = () => writeSweepJson(dir, plan, planned, outcomes);
  record();
  const meta = (t: Trial): SweepMeta => ({ id: plan.id, metric: plan.sweep.metric.name as ValueName, goal: plan.sweep.metric.goal, params: t.params });

  let next = 0;
  const worker = async () => {
    while (next < todo.length && !stop.signal.aborted) {
      const { trial } = todo[next++]!;
      const label = `[${next}/${todo.length} ${trial.hash}]`;
      opts.onEvent?.(`${label} start ${describeTrial(trial)}`);
      const outcome = await runTrial(plan, trial, dir, meta(trial), opts, stop.signal);
      outcomes.set(trial.hash, outcome);
      record();
      opts.onEvent?.(`${label} ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}${outcome.run ? ` (${outcome.run})` : ''}`);
      if (outcome.status === 'failed' && opts.failFast) stop.abort();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, todo.length)) }, worker));
  for (const p of todo) if (!outcomes.has(p.trial.hash)) outcomes.set(p.trial.hash, { trial: p.trial, status: 'skipped' });
  record();

  const runs = findRunDirs(dir, 1).map(readRun).filter((r) => r.record['sweep']?.id === plan.id);
  const leaderboard = runs.length ? buildLeaderboard(runs) : undefined;
  if (leaderboard) {
    writeFileAtomic(join(dir, 'leaderboard.json'), `${JSON.stringify(leaderboard, null, 2)}\n`);
    writeFileAtomic(join(dir, 'leaderboard.md'), formatLeaderboard(leaderboard, 'md'));
  }
  return { outcomes: [...outcomes.values()], leaderboard, dir };
}

/** `lr=0.001 batchSize=32 seed=1`: the trial's overrides, short keys. */
export function describeTrial(t: Trial): string {
  const key = (o: Override) => (typeof o.path[o.path.length - 1] === 'number' ? o.path.join('.') : String(o.path[o.path.length - 1]));
  return t.overrides.map((o) => `${key(o)}=${JSON.stringify(o.value)}`).join(' ');
}

/** One trial: `runner run` in a child process (arguments as an array, no shell). */
async function runTrial(plan: SweepPlan, trial: Trial, dir: string, meta: SweepMeta, { backend, noCache }: SweepOptions, signal: AbortSignal): Promise<TrialOutcome> {
  const args = [BIN, 'run', plan.file, ...trial.overrides.flatMap((o) => ['--set', o.text]), '--out', dir, '--sweep-meta', JSON.stringify(meta)];
  if (backend) args.push('--backend', backend);
  if (noCache) args.push('--no-cache');
  const child = await execa('node', args, { reject: false, cancelSignal: signal, env: { FORCE_COLOR: '0' } });
  const runPath = /run: (\S+) \(status/.exec(`${child.stdout}\n${child.stderr}`)?.[1];
  const run = runPath?.split('/').pop();
  if (child.exitCode === 0) return { trial, status: 'completed', run };
  if (child.isCanceled || child.exitCode === 130 || signal.aborted) return { trial, status: 'interrupted', run };
  const error = child.stderr.split('\n').filter((l) => l.startsWith('runner: ') && !l.includes('warning:')).pop()?.replace(/^runner: /, '') ?? `exit code ${child.exitCode}`;
  return { trial, status: 'failed', run, error };
}

function writeSweepJson(dir: string, plan: SweepPlan, planned: readonly PlannedTrial[], outcomes: Map<string, TrialOutcome>): void {
  const trials = planned.map((p) => {
    const o = outcomes.get(p.trial.hash);
    return {
      trial: p.trial.hash, variant: p.trial.variant, shard: p.shard, params: p.trial.params, seed: p.trial.seed,
      status: o?.status ?? (p.state === 'done' ? 'completed' : p.state === 'other shard' ? 'other shard' : 'pending'),
      run: o?.run ?? p.previous?.id ?? null,
      ...(o?.error ? { error: o.error } : {}),
    };
  });
  writeFileAtomic(join(dir, 'sweep.json'), `${toJson({ formatVersion: 1, id: plan.id, spec: plan.file, method: plan.sweep.method, metric: plan.sweep.metric, trials })}\n`);
}
