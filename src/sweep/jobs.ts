import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findRunDirs, readRun, type RunView } from '../runs/reader.js';
import { RUN_FILES } from '../runs/run-dir.js';
import { epochValues, runValues, type ValueName } from '../runs/values.js';
import type { StopAt } from '../stages/stage.js';
import { hasCheckpoint } from '../train/checkpoint.js';
import type { SweepPlan } from './plan.js';
import type { Job, Result } from './scheduler.js';

/** The trial's run: the one named (by its last result), else its newest in the sweep folder. */
function latestRun(dir: string, hash: string, known?: string): RunView | undefined {
  if (known && existsSync(join(dir, known))) return readRun(join(dir, known));
  const runs = findRunDirs(dir, 1).map(readRun).filter((r) => r.record.specHash === hash);
  return runs.sort((a, b) => String(a.record.startedAt).localeCompare(String(b.record.startedAt))).pop();
}

/**
 * What a job needs done for its trial, from the sweep folder: nothing when a run of it already
 * reached the job's epochs (completed, or stopped at or past the rung: read it), else continue a
 * run left part-way from its checkpoint (`takeOver`: even one whose run.json says running, when its
 * worker is known to be gone), else start the trial. Trials are never trained twice.
 */
export function jobPlan(dir: string, hash: string, job: Job, known?: string, takeOver = false): { reached?: RunView; resume?: string } {
  const latest = latestRun(dir, hash, known);
  if (!latest) return {};
  const reached = latest.status === 'completed' || (latest.status === 'stopped' && job.epochs > 0 && (latest.record.stopped?.epoch ?? 0) >= job.epochs);
  if (reached) return { reached: latest };
  const states = takeOver ? ['stopped', 'interrupted', 'crashed', 'failed', 'running'] : ['stopped', 'interrupted', 'crashed', 'failed'];
  return states.includes(latest.status) && hasCheckpoint(join(latest.dir, RUN_FILES.checkpoint)) ? { resume: latest.dir } : {};
}

/** Where fit stops for this job: its rung, unless the rung is the last (max) or the sweep has no scheduler. */
export function untilOf(plan: SweepPlan, job: Job): StopAt | undefined {
  const cfg = plan.scheduler;
  return cfg && job.epochs < cfg.max ? { epochs: job.epochs, reason: `${cfg.kind} rung ${job.rung} (${job.epochs} of ${cfg.max} epochs)` } : undefined;
}

/** The job's result: the sweep metric over the run's epochs up to the rung (the whole run when it completed). */
export function resultOf(plan: SweepPlan, job: Job, run: RunView | undefined, error?: string): Result {
  const base = { type: 'result' as const, trial: job.trial, bracket: job.bracket, rung: job.rung, epochs: job.epochs, trained: run?.metrics.length ?? 0, ...(run ? { run: run.id } : {}) };
  if (!run || (run.status !== 'completed' && run.status !== 'stopped')) return { ...base, status: 'failed', error: error ?? `run status ${run?.status ?? 'unknown'}` };
  const metric = plan.sweep.metric.name as ValueName;
  const value = run.status === 'completed' ? runValues(run)[metric] : epochValues(run.metrics.filter((r) => (r['epoch'] ?? 0) <= job.epochs))[metric];
  if (value === undefined) return { ...base, status: 'failed', error: `no ${metric} after ${base.trained} epoch(s) (a loss that is not finite?)` };
  return { ...base, status: run.status, value };
}
