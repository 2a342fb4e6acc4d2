import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { RunnerError } from '../core/errors.js';
import { findRunDirs, readRun, type RunView } from '../runs/reader.js';
import { RUN_FILES } from '../runs/run-dir.js';
import { epochValues, type ValueName } from '../runs/values.js';
import { DecisionLog } from './decision-log.js';
import { trialLog, writeSweepJson, type PlannedTrial, type TrialOutcome } from './folder.js';
import { writeLeaderboardFiles, type Leaderboard } from './leaderboard.js';
import type { SweepPlan, Trial } from './plan.js';
import { WorkerPool } from './pool.js';
import { Scheduler, underWay, type Decision, type Job, type Result } from './scheduler.js';
import { describeTrial, sweepDir, trialError, type SweepOptions } from './trials.js';

/**
 * Runs an adaptive sweep (asha, hyperband): jobs `opts.jobs` at a time, each a trial started to its
 * bracket's first rung or a promoted trial continued from its checkpoint to the next. Every
 * decision and result goes to decisions.jsonl first; a sweep started again replays it, runs the
 * jobs that were under way and goes on making the same decisions.
 */
export async function runAdaptiveSweep(plan: SweepPlan, opts: SweepOptions): Promise<{ outcomes: TrialOutcome[]; leaderboard?: Leaderboard; dir: string }> {
  const cfg = plan.scheduler!;
  const dir = sweepDir(plan, opts.out);
  mkdirSync(dir, { recursive: true });
  const trials = new Map(plan.trials.map((t) => [t.hash, t]));
  const log = DecisionLog.open(dir, { id: plan.id, scheduler: cfg, trials: plan.trials.map((t) => t.hash) });
  const scheduler = new Scheduler(cfg, plan.trials.map((t) => t.hash), plan.sweep.metric.goal);
  try {
    for (const d of log.decisions) scheduler.apply(d);
  } catch (err) {
    throw new RunnerError(`${log.file}: ${(err as Error).message}`, 2, ['move the sweep folder away to start the sweep afresh']);
  }
  const queue = underWay(log.decisions);
  const planned: PlannedTrial[] = plan.trials.map((trial) => ({ trial, shard: 1, state: 'todo' }));
  const record = () => writeSweepJson(dir, plan, planned, outcomesOf(log.decisions, trials));
  record();

  const stop = new AbortController();
  opts.signal?.addEventListener('abort', () => stop.abort());
  const pool = new WorkerPool(join(dir, 'logs'));
  stop.signal.addEventListener('abort', () => pool.stop());
  const running = new Set<Promise<void>>();
  const launch = (job: Job, replayed: boolean) => {
    const trial = trials.get(job.trial)!;
    const label = `[${trial.hash}]`;
    opts.onEvent?.(`${label} ${replayed ? `${job.type} (under way when the sweep stopped)` : job.type} ${describeTrial(trial, ['train.epochs'])} -> ${rungName(scheduler, job)}`);
    const work = async () => {
      const known = [...log.decisions].reverse().find((d): d is Result => d.type === 'result' && d.trial === job.trial)?.run;
      const result = await runJob(pool, plan, job, trial, dir, known, opts, stop.signal);
      if (!result) return;
      log.append(result);
      scheduler.apply(result);
      record();
      opts.onEvent?.(`${label} ${result.status === 'stopped' ? `stopped at ${rungName(scheduler, result)}` : result.status}${result.value !== undefined ? `: ${plan.sweep.metric.name} ${result.value.toFixed(4)}` : ''}${result.error ? `: ${result.error}` : ''}`);
      if (result.status === 'failed' && opts.failFast) stop.abort();
    };
    const handle: Promise<void> = work().finally(() => running.delete(handle));
    running.add(handle);
  };
  try {
    while (!stop.signal.aborted) {
      while (running.size < Math.max(1, opts.jobs) && !stop.signal.aborted) {
        const replayed = queue.shift();
        const job = replayed ?? scheduler.next();
        if (!job) break;
        if (!replayed) {
          log.append(job);
          scheduler.apply(job);
        }
        launch(job, replayed !== undefined);
      }
      if (running.size === 0) break;
      await Promise.race(running);
    }
    await Promise.all(running);
  } finally {
    pool.close();
  }
  record();
  return { outcomes: [...outcomesOf(log.decisions, trials).values()], leaderboard: writeLeaderboardFiles(dir, plan.id), dir };
}

/** `rung 1 of bracket 0 (3 epochs)`: where a job goes or a result stands. */
function rungName(s: Scheduler, d: Decision): string {
  const bracket = s.brackets.length > 1 ? ` of bracket ${d.bracket}` : '';
  return `rung ${d.rung}${bracket} (${d.epochs} epoch${d.epochs === 1 ? '' : 's'})`;
}

/** Each trial's latest state as the log has it, for sweep.json and the command's summary. */
function outcomesOf(decisions: readonly Decision[], trials: ReadonlyMap<string, Trial>): Map<string, TrialOutcome> {
  const out = new Map<string, TrialOutcome>();
  for (const d of decisions) {
    const rung = { bracket: d.bracket, index: d.rung, epochs: d.epochs };
    const trial = trials.get(d.trial)!;
    if (d.type !== 'result') out.set(d.trial, { ...out.get(d.trial), trial, status: 'running', rung });
    else out.set(d.trial, { trial, status: d.status, rung, ...(d.run ? { run: d.run } : {}), ...(d.error ? { error: d.error } : {}) });
  }
  return out;
}

/** The trial's run: the one its last result names, else (a trial that was starting when the sweep stopped) its newest in the sweep folder. */
function latestRun(dir: string, hash: string, known: string | undefined): RunView | undefined {
  if (known && existsSync(join(dir, known))) return readRun(join(dir, known));
  const runs = findRunDirs(dir, 1).map(readRun).filter((r) => r.record.specHash === hash);
  return runs.sort((a, b) => String(a.record.startedAt).localeCompare(String(b.record.startedAt))).pop();
}

/**
 * One job, run by a worker process. A run that already reached the job's epochs (the sweep was
 * killed before it logged the result) is read, not trained again; a run left part-way is resumed
 * from its checkpoint; otherwise the trial starts. Undefined when the sweep was interrupted: the
 * job stays in the log as under way.
 */
async function runJob(pool: WorkerPool, plan: SweepPlan, job: Job, trial: Trial, dir: string, known: string | undefined, opts: SweepOptions, signal: AbortSignal): Promise<Result | undefined> {
  const cfg = plan.scheduler!;
  const latest = latestRun(dir, trial.hash, known);
  const reached = latest && (latest.status === 'completed' || (latest.status === 'stopped' && (latest.record.stopped?.epoch ?? 0) >= job.epochs));
  if (reached) return resultOf(plan, job, latest);
  const resumable = latest && ['stopped', 'interrupted', 'crashed', 'failed'].includes(latest.status) && existsSync(join(latest.dir, RUN_FILES.checkpoint));
  const log = trialLog(dir, trial.hash);
  mkdirSync(dirname(log), { recursive: true });
  const end = await pool.run({
    hash: trial.hash, spec: plan.file, sets: [...plan.set, ...trial.overrides].map((o) => o.text), out: dir, log,
    cores: Math.max(1, Math.floor(availableParallelism() / opts.jobs)),
    ...(opts.backend ? { backend: opts.backend } : {}), ...(opts.threads ? { threads: opts.threads } : {}), ...(opts.noCache ? { noCache: true } : {}),
    ...(resumable ? { resume: latest.dir } : {}),
    ...(job.epochs < cfg.max ? { until: { epochs: job.epochs, reason: `${cfg.kind} rung ${job.rung} (${job.epochs} of ${cfg.max} epochs)` } } : {}),
  });
  const run = end.type === 'done' && end.runDir ? readRun(end.runDir) : undefined;
  if (signal.aborted || run?.status === 'interrupted') return undefined;
  return resultOf(plan, job, run, trialError(run, end, log));
}

/** The job's result: the metric over the run's epochs up to the rung (all of them when it completed). */
function resultOf(plan: SweepPlan, job: Job, run: RunView | undefined, error?: string): Result {
  const base = { type: 'result' as const, trial: job.trial, bracket: job.bracket, rung: job.rung, epochs: job.epochs, trained: run?.metrics.length ?? 0, ...(run ? { run: run.id } : {}) };
  if (!run || (run.status !== 'completed' && run.status !== 'stopped')) return { ...base, status: 'failed', error: error ?? `run status ${run?.status ?? 'unknown'}` };
  const rows = run.status === 'completed' ? run.metrics : run.metrics.filter((r) => (r['epoch'] ?? 0) <= job.epochs);
  const value = epochValues(rows)[plan.sweep.metric.name as ValueName];
  if (value === undefined) return { ...base, status: 'failed', error: `no ${plan.sweep.metric.name} after ${rows.length} epoch(s) (a loss that is not finite?)` };
  return { ...base, status: run.status, value };
}
