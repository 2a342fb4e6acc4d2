import { mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { BackendChoice, ThreadsChoice } from '../backend/select.js';
import { coresPerTrial, sweepSettings, WorkerPool, type TrialEnd } from './pool.js';
import { openTrialLog, writeSweepJson, type PlannedTrial, type TrialOutcome, type TrialState } from './folder.js';
import { writeLeaderboardFiles, type Leaderboard } from './leaderboard.js';
import { findRunDirs, readRun, type RunView } from '../runs/reader.js';
import type { Override } from '../spec/overrides.js';
import { shardOf, trialSets, type SweepPlan, type Trial } from './plan.js';

export interface SweepOptions {
  readonly out: string;
  readonly jobs: number;
  readonly shard?: { index: number; total: number };
  readonly failFast?: boolean;
  readonly backend?: BackendChoice;
  /** Threads per trial (runner sweep --threads); by default each of the -j trials at once gets its share of the cores. */
  readonly threads?: ThreadsChoice;
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

  const pool = new WorkerPool(join(dir, 'logs'));
  stop.signal.addEventListener('abort', () => pool.stop());
  let next = 0;
  const worker = async () => {
    while (next < todo.length && !stop.signal.aborted) {
      const { trial } = todo[next++]!;
      const label = `[${next}/${todo.length} ${trial.hash}]`;
      opts.onEvent?.(`${label} start ${describeTrial(trial)}`);
      const outcome = await runTrial(pool, plan, trial, dir, opts, stop.signal);
      outcomes.set(trial.hash, outcome);
      record();
      opts.onEvent?.(`${label} ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}${outcome.run ? ` (${outcome.run})` : ''}`);
      if (outcome.status === 'failed' && opts.failFast) stop.abort();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, todo.length)) }, worker));
  } finally {
    pool.close();
  }
  for (const p of todo) if (!outcomes.has(p.trial.hash)) outcomes.set(p.trial.hash, { trial: p.trial, status: 'skipped' });
  record();

  return { outcomes: [...outcomes.values()], leaderboard: writeLeaderboardFiles(dir, plan.id), dir };
}

/** `lr=0.001 batchSize=32 seed=1`: the trial's overrides (but `hide`), short keys. */
export function describeTrial(t: Trial, hide: readonly string[] = []): string {
  const key = (o: Override) => (typeof o.path[o.path.length - 1] === 'number' ? o.path.join('.') : String(o.path[o.path.length - 1]));
  return t.overrides.filter((o) => !hide.includes(o.path.join('.'))).map((o) => `${key(o)}=${JSON.stringify(o.value)}`).join(' ');
}

/** Why a trial's run did not end well: its stage's error, the worker's death, or the worker's answer. */
export function trialError(run: RunView | undefined, end: TrialEnd, log: string): string | undefined {
  const where = relative(process.cwd(), log) || log;
  return run?.record.error ? `stage '${run.record.error.stage}' failed: ${run.record.error.message}`
    : end.type === 'died' ? `its worker process died (${end.signal ?? `exit code ${end.code}`}); see ${where}`
      : end.error ? `${end.error}; see ${where}` : undefined;
}

/**
 * One trial, run by a worker process of the pool (as `runner run` with the trial's overrides would
 * run it); its warnings go to logs/<trial>.log. What happened is read from the run folder the
 * worker names in its answer, never from its output.
 */
async function runTrial(pool: WorkerPool, plan: SweepPlan, trial: Trial, dir: string, opts: SweepOptions, signal: AbortSignal): Promise<TrialOutcome> {
  const log = openTrialLog(dir, trial.hash);
  const end = await pool.run({
    hash: trial.hash, spec: plan.file, sets: trialSets(plan, trial), out: dir, log, cores: coresPerTrial(opts.jobs), ...sweepSettings(opts),
  });
  const run = end.type === 'done' && end.runDir ? readRun(end.runDir) : undefined;
  if (run?.status === 'completed') return { trial, status: 'completed', run: run.id };
  if (signal.aborted || run?.status === 'interrupted') return { trial, status: 'interrupted', run: run?.id };
  const error = trialError(run, end, log) ?? `run status ${run?.status}; see ${relative(process.cwd(), log) || log}`;
  return { trial, status: 'failed', run: run?.id, error };
}
