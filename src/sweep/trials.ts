import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { EXIT } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import { trialLog, writeSweepJson, type PlannedTrial, type TrialOutcome, type TrialState } from './folder.js';
import { buildLeaderboard, formatLeaderboard, type Leaderboard } from './leaderboard.js';
import { findRunDirs, readRun, type RunView } from '../runs/reader.js';
import type { Override } from '../spec/overrides.js';
import { shardOf, type SweepPlan, type Trial } from './plan.js';

const BIN = fileURLToPath(new URL('../../bin/runner.js', import.meta.url));

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
    const hash = run.record.specHash;
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

  let next = 0;
  const worker = async () => {
    while (next < todo.length && !stop.signal.aborted) {
      const { trial } = todo[next++]!;
      const label = `[${next}/${todo.length} ${trial.hash}]`;
      opts.onEvent?.(`${label} start ${describeTrial(trial)}`);
      const outcome = await runTrial(plan, trial, dir, opts, stop.signal);
      outcomes.set(trial.hash, outcome);
      record();
      opts.onEvent?.(`${label} ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}${outcome.run ? ` (${outcome.run})` : ''}`);
      if (outcome.status === 'failed' && opts.failFast) stop.abort();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, todo.length)) }, worker));
  for (const p of todo) if (!outcomes.has(p.trial.hash)) outcomes.set(p.trial.hash, { trial: p.trial, status: 'skipped' });
  record();

  const runs = findRunDirs(dir, 1).map(readRun).filter((r) => r.record.sweep?.id === plan.id);
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

/**
 * One trial: `runner run` in a child process (arguments as an array, no shell), its output kept in
 * logs/<trial>.log. What happened is read from the run folder it wrote (the one whose run.json
 * names this trial and the child's pid), never from its output.
 */
async function runTrial(plan: SweepPlan, trial: Trial, dir: string, { backend, noCache }: SweepOptions, signal: AbortSignal): Promise<TrialOutcome> {
  const args = [BIN, 'run', plan.file, ...trial.overrides.flatMap((o) => ['--set', o.text]), '--out', dir, '--sweep-trial', trial.hash];
  if (backend) args.push('--backend', backend);
  if (noCache) args.push('--no-cache');
  const log = trialLog(dir, trial.hash);
  mkdirSync(dirname(log), { recursive: true });
  const subprocess = execa('node', args, { reject: false, cancelSignal: signal, env: { FORCE_COLOR: '0' }, stdin: 'ignore', stdout: { file: log }, stderr: { file: log, append: true } });
  const child = await subprocess;
  const run = findRunDirs(dir, 1).map(readRun).find((r) => r.record.sweep?.trial === trial.hash && r.record.pid === subprocess.pid);
  if (run?.status === 'completed' && child.exitCode === 0) return { trial, status: 'completed', run: run.id };
  if (child.isCanceled || child.exitCode === EXIT.interrupted || signal.aborted || run?.status === 'interrupted') return { trial, status: 'interrupted', run: run?.id };
  const error = run?.record.error ? `stage '${run.record.error.stage}' failed: ${run.record.error.message}`
    : `exit code ${child.exitCode ?? child.signal} ${run ? `with run status ${run.status}` : 'before its run folder was written'}; see ${relative(process.cwd(), log) || log}`;
  return { trial, status: 'failed', run: run?.id, error };
}
