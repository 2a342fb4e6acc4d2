import { join } from 'node:path';
import { readRun } from '../runs/reader.js';
import { driveSweep, type Executor } from './drive.js';
import { openTrialLog, type TrialOutcome } from './folder.js';
import { jobPlan, resultOf, untilOf } from './jobs.js';
import type { Leaderboard } from './leaderboard.js';
import { trialSets, type SweepPlan } from './plan.js';
import { coresPerTrial, sweepSettings, WorkerPool } from './pool.js';
import { sweepDir, trialError, type SweepOptions } from './trials.js';

/**
 * Runs an adaptive sweep (asha, hyperband) on this machine: `opts.jobs` jobs at a time, each a
 * trial started to its bracket's first rung or a promoted trial continued from its checkpoint to
 * the next, in worker processes.
 */
export function runAdaptiveSweep(plan: SweepPlan, opts: SweepOptions): Promise<{ outcomes: TrialOutcome[]; leaderboard?: Leaderboard; dir: string }> {
  const dir = sweepDir(plan, opts.out);
  const pool = new WorkerPool(join(dir, 'logs'));
  let interrupted = false;
  const executor: Executor = {
    async run(job, trial, known) {
      const { reached, resume } = jobPlan(dir, trial.hash, job, known);
      if (reached) return resultOf(plan, job, reached);
      const log = openTrialLog(dir, trial.hash);
      const until = untilOf(plan, job);
      const end = await pool.run({
        hash: trial.hash, spec: plan.file, sets: trialSets(plan, trial), out: dir, log, cores: coresPerTrial(opts.jobs), ...sweepSettings(opts),
        ...(resume ? { resume } : {}), ...(until ? { until } : {}),
      });
      const run = end.type === 'done' && end.runDir ? readRun(end.runDir) : undefined;
      // Interrupted: the job stays in the log as under way, for the next start of the sweep.
      if (interrupted || run?.status === 'interrupted') return undefined;
      return resultOf(plan, job, run, trialError(run, end, log));
    },
    stop() {
      interrupted = true;
      pool.stop();
    },
    close: () => pool.close(),
  };
  return driveSweep(plan, { out: opts.out, slots: opts.jobs, failFast: opts.failFast, signal: opts.signal, onEvent: opts.onEvent }, executor);
}
