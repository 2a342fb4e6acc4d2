import { mkdirSync } from 'node:fs';
import { RunnerError } from '../core/errors.js';
import { DecisionLog } from './decision-log.js';
import { writeSweepJson, type PlannedTrial, type TrialOutcome } from './folder.js';
import { writeLeaderboardFiles, type Leaderboard } from './leaderboard.js';
import type { SweepPlan, Trial } from './plan.js';
import { InOrder, Scheduler, underWay, type Decision, type Job, type JobSource, type Result } from './scheduler.js';
import { describeTrial, sweepDir } from './trials.js';

/** Runs one job somewhere (a local worker process, or a queue's worker): its result, or undefined when the sweep was interrupted meanwhile. */
export interface Executor {
  run(job: Job, trial: Trial, known: string | undefined): Promise<Result | undefined>;
  /** The sweep was interrupted: end the jobs under way as Ctrl-C would. */
  stop(): void;
  close(): Promise<void> | void;
}

/** How many jobs at once, what to tell the person, and what stops the sweep. */
export interface DriveOptions {
  readonly out: string;
  readonly slots: number;
  readonly failFast?: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent?: (line: string) => void;
}

/**
 * Runs a sweep as jobs, `slots` at a time: an adaptive scheduler's starts and promotions, or (no
 * scheduler) each trial once. Every decision and result goes to decisions.jsonl first; a sweep
 * started again replays it, runs the jobs that were under way, and goes on making the same decisions.
 */
export async function driveSweep(plan: SweepPlan, opts: DriveOptions, executor: Executor): Promise<{ outcomes: TrialOutcome[]; leaderboard?: Leaderboard; dir: string }> {
  const dir = sweepDir(plan, opts.out);
  mkdirSync(dir, { recursive: true });
  const trials = new Map(plan.trials.map((t) => [t.hash, t]));
  const order = plan.trials.map((t) => t.hash);
  const log = DecisionLog.open(dir, { id: plan.id, scheduler: plan.scheduler ?? null, trials: order });
  const source: JobSource = plan.scheduler ? new Scheduler(plan.scheduler, order, plan.sweep.metric.goal) : new InOrder(order);
  try {
    for (const d of log.decisions) source.apply(d);
  } catch (err) {
    throw new RunnerError(`${log.file}: ${(err as Error).message}`, 2, ['move the sweep folder away to start the sweep afresh']);
  }
  const queue = underWay(log.decisions);
  const planned: PlannedTrial[] = plan.trials.map((trial) => ({ trial, shard: 1, state: 'todo' }));
  const record = () => writeSweepJson(dir, plan, planned, outcomesOf(log.decisions, trials));
  record();

  const stop = new AbortController();
  opts.signal?.addEventListener('abort', () => stop.abort());
  stop.signal.addEventListener('abort', () => executor.stop());
  const running = new Set<Promise<void>>();
  const launch = (job: Job, replayed: boolean) => {
    const trial = trials.get(job.trial)!;
    const label = `[${trial.hash}]`;
    const to = plan.scheduler ? ` -> ${rungName(plan, job)}` : '';
    opts.onEvent?.(`${label} ${replayed ? `${job.type} (under way when the sweep stopped)` : job.type} ${describeTrial(trial, ['train.epochs'])}${to}`);
    const work = async () => {
      const known = [...log.decisions].reverse().find((d): d is Result => d.type === 'result' && d.trial === job.trial)?.run;
      const result = await executor.run(job, trial, known);
      if (!result) return;
      log.append(result);
      source.apply(result);
      record();
      const what = result.status === 'stopped' ? `stopped at ${rungName(plan, result)}` : result.status;
      opts.onEvent?.(`${label} ${what}${result.value !== undefined ? `: ${plan.sweep.metric.name} ${result.value.toFixed(4)}` : ''}${result.error ? `: ${result.error}` : ''}${result.run ? ` (${result.run})` : ''}`);
      if (result.status === 'failed' && opts.failFast) stop.abort();
    };
    const handle: Promise<void> = work().finally(() => running.delete(handle));
    running.add(handle);
  };
  try {
    while (!stop.signal.aborted) {
      while (running.size < Math.max(1, opts.slots) && !stop.signal.aborted) {
        const replayed = queue.shift();
        const job = replayed ?? source.next();
        if (!job) break;
        if (!replayed) {
          log.append(job);
          source.apply(job);
        }
        launch(job, replayed !== undefined);
      }
      if (running.size === 0) break;
      await Promise.race(running);
    }
    await Promise.all(running);
  } finally {
    await executor.close();
  }
  record();
  return { outcomes: [...outcomesOf(log.decisions, trials).values()], leaderboard: writeLeaderboardFiles(dir, plan.id), dir };
}

/** `rung 1 of bracket 0 (3 epochs)`: where a job goes or a result stands. */
function rungName(plan: SweepPlan, d: Decision): string {
  const bracket = plan.scheduler?.kind === 'hyperband' ? ` of bracket ${d.bracket}` : '';
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
