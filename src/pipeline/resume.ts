import { join } from 'node:path';
import type { BackendChoice, ThreadsChoice } from '../backend/select.js';
import { RunnerError } from '../core/errors.js';
import type { RunRecord } from '../runs/record.js';
import { readRun, specDirOf } from '../runs/reader.js';
import { RUN_FILES, RunDir } from '../runs/run-dir.js';
import { specHash } from '../spec/hash.js';
import type { StopAt } from '../stages/stage.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { planRun } from './plan.js';
import { executeRun, loadBackend, type RunIO, type RunOutcome } from './run.js';

/** How to resume: on which backend and threads, and (an adaptive sweep's promotion) where to stop again. */
export interface ResumeRequest extends RunIO {
  readonly backend?: BackendChoice;
  readonly threads?: ThreadsChoice;
  /** What threads 'auto' means here (a sweep's share of the cores). */
  readonly cores?: number;
  readonly noCache?: boolean;
  readonly until?: StopAt;
  /** A sweep queue says the run's process is gone (on whatever machine): continue it even though run.json says running. */
  readonly takeOver?: boolean;
}

/**
 * Continues an interrupted, failed, crashed or stopped run from its last checkpoint, in the same
 * folder, to the planned number of epochs (or to `until`), on the backend it used.
 */
export async function resumeRun(dir: string, opts: ResumeRequest): Promise<RunOutcome> {
  const run = readRun(dir);
  if (run.status === 'completed') throw new RunnerError(`${run.id} has already completed: there is nothing to resume`, 2, ['runner reproduce reruns it into a new folder']);
  if (run.status === 'running' && !opts.takeOver) throw new RunnerError(`${run.id} is still running (pid ${run.record.pid})`);
  const checkpoint = loadCheckpoint(join(run.dir, RUN_FILES.checkpoint));
  const plan = planRun(join(run.dir, RUN_FILES.resolved), [], { specDir: specDirOf(run) });
  const { spec } = plan;
  if (checkpoint.cursor.epoch > spec.train.epochs + 1) throw new RunnerError(`the checkpoint of ${run.id} is at epoch ${checkpoint.cursor.epoch}, past the run's ${spec.train.epochs} epochs`);
  if (run.record.specHash && specHash(spec) !== run.record.specHash) {
    throw new RunnerError(`${join(run.dir, RUN_FILES.resolved)} has changed since the run started (spec hash ${specHash(spec).slice(0, 12)}, recorded ${String(run.record.specHash).slice(0, 12)})`, 2, ['a resumed run must continue the spec it started with; run the changed spec with runner run']);
  }
  const backend = await loadBackend({ backend: opts.backend ?? run.record.backend.used ?? spec.backend, threads: opts.threads ?? spec.threads, cores: opts.cores, warn: opts.warn });
  const { error: _error, endedAt: _endedAt, stopped: _stopped, ...rest } = run.record;
  const resumed = { at: new Date().toISOString(), epoch: checkpoint.cursor.epoch, batch: checkpoint.cursor.step, checkpoint: checkpoint.reason, backend: backend.used };
  const record: RunRecord = { ...rest, status: 'running', pid: process.pid, resumes: [...(rest.resumes ?? []), resumed] };
  return executeRun({ plan, runDir: RunDir.open(run.dir), record, backend, io: opts, resume: checkpoint, noCache: opts.noCache, until: opts.until, takeOver: opts.takeOver });
}
