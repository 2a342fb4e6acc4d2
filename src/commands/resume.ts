import { join } from 'node:path';
import type { BackendChoice } from '../backend/select.js';
import { RunnerError } from '../core/errors.js';
import { loadSpec } from '../spec/load.js';
import { readRun, resolveRunArgs, specDirOf } from '../runs/reader.js';
import { RUN_FILES, RunDir } from '../runs/run-dir.js';
import { specHash } from '../spec/hash.js';
import type { Progress } from '../stages/stage.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { executeRun, loadBackend, type RunOutcome } from './run.js';

/** What `runner resume` takes: the run, and where its progress and warnings go. */
export interface ResumeOptions {
  readonly run: string;
  readonly runsDir?: string;
  readonly backend?: BackendChoice;
  readonly progress?: Progress;
  readonly warn?: (msg: string) => void;
  readonly signal?: AbortSignal;
  readonly noCache?: boolean;
}

/**
 * `runner resume`: continues an interrupted (or failed, or crashed) run from its last checkpoint,
 * in the same folder, to the planned number of epochs, on the backend it used.
 */
export async function resumeCommand(opts: ResumeOptions): Promise<RunOutcome> {
  const [dir] = resolveRunArgs([opts.run], opts.runsDir);
  const run = readRun(dir!);
  if (run.status === 'completed') throw new RunnerError(`${run.id} has already completed: there is nothing to resume`, 2, ['runner reproduce reruns it into a new folder']);
  if (run.status === 'running') throw new RunnerError(`${run.id} is still running (pid ${String(run.record['pid'])})`);
  const checkpoint = loadCheckpoint(join(run.dir, RUN_FILES.checkpoint));
  const specDir = specDirOf(run);
  const { spec } = loadSpec(join(run.dir, RUN_FILES.resolved), [], specDir);
  if (run.record['specHash'] && specHash(spec) !== run.record['specHash']) {
    throw new RunnerError(`${join(run.dir, RUN_FILES.resolved)} has changed since the run started (spec hash ${specHash(spec).slice(0, 12)}, recorded ${String(run.record['specHash']).slice(0, 12)})`, 2, ['a resumed run must continue the spec it started with; run the changed spec with runner run']);
  }
  const recorded = run.record['backend'] as { used?: BackendChoice } | undefined;
  const backend = await loadBackend(opts.backend ?? recorded?.used ?? spec.backend);
  const record: Record<string, unknown> = { ...run.record, status: 'running', pid: process.pid };
  delete record['error'];
  delete record['endedAt'];
  const resumes = (record['resumes'] as unknown[] | undefined) ?? [];
  record['resumes'] = [...resumes, { at: new Date().toISOString(), epoch: checkpoint.cursor.epoch, batch: checkpoint.cursor.step, checkpoint: checkpoint.reason, backend: backend.used }];
  return executeRun({ spec, specDir, runDir: RunDir.open(run.dir), record, backend, opts, resume: checkpoint, noCache: opts.noCache });
}
