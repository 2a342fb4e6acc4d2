import type { BackendChoice, BackendInfo, ThreadsChoice } from '../backend/select.js';
import type * as TF from '../backend/tf.js';
import { EXIT, formatProblem, messageOf, RunnerError } from '../core/errors.js';
import { removeLeftovers } from '../core/files.js';
import { installSeededRandom } from '../core/random.js';
import { dataKind } from '../data/kinds.js';
import { gitState } from '../runs/environment.js';
import type { RunRecord, StageRecord } from '../runs/record.js';
import { RunLock } from '../runs/lock.js';
import { writeModelCard } from '../runs/model-card.js';
import { RUN_FILES, RunDir } from '../runs/run-dir.js';
import { SpecValueError } from '../spec/locate.js';
import { silentProgress, type Progress, type StageContext, type StopAt } from '../stages/stage.js';
import type { TestSummary } from '../stages/types.js';
import type { Checkpoint } from '../train/checkpoint.js';
import { executeStages, type ExecutionResult } from './execute.js';
import { runLogger } from './logger.js';
import type { PlannedRun } from './plan.js';
import { newRecord, type RecordOrigin } from './record.js';
import { stageCacheHooks } from './stage-cache.js';

/** Ctrl-C as the engine sees it: the signal to stop after the batch, and what must happen before a forced exit. */
export interface Interrupt {
  readonly signal: AbortSignal;
  /** What a second Ctrl-C does before the process exits at once; it returns the exit code to exit with. */
  beforeExit(fn: () => number): void;
}

/** Where a run's progress, warnings and Ctrl-C come from and go to. */
export interface RunIO {
  readonly progress?: Progress;
  /** Where warnings for the person go (the run log gets them too). */
  readonly warn?: (msg: string) => void;
  readonly interrupt?: Interrupt;
}

/** What `runExperiment` takes besides the plan: where the run folder goes, on which backend, and what run.json says of its origin. */
export interface RunOptions extends RunIO, RecordOrigin {
  readonly out?: string;
  readonly backend?: BackendChoice;
  /** --threads: overrides the spec's threads. */
  readonly threads?: ThreadsChoice;
  /** What threads 'auto' means here: a sweep running N trials at once gives each its share of the cores (default: every core). */
  readonly cores?: number;
  /** Recompute load and normalize even when the stage cache has them (--no-cache). */
  readonly noCache?: boolean;
  /** An adaptive sweep's rung: fit stops after this many epochs and the run ends as stopped. */
  readonly until?: StopAt;
}

/** How a run ended: its folder, each stage, the test summary or the error, and the backend it ran on. */
export interface RunOutcome {
  readonly exitCode: number;
  readonly status: 'completed' | 'failed' | 'interrupted' | 'stopped';
  readonly runDir: string;
  readonly id: string;
  readonly stages: readonly StageRecord[];
  readonly summary?: TestSummary;
  readonly error?: { stage: string; message: string };
  readonly backend: BackendInfo;
}

/** Which backend, on how many threads: what loadBackend takes. */
export interface BackendRequest {
  readonly backend: BackendChoice;
  readonly threads?: ThreadsChoice;
  /** What threads 'auto' means (default: every core). */
  readonly cores?: number;
  readonly warn?: (msg: string) => void;
}

/** Loads TensorFlow.js and the backend; seeds nothing yet. Warns when wasm, started earlier in this process, has another thread count. */
export async function loadBackend(req: BackendRequest): Promise<BackendInfo> {
  const [{ selectBackend, threadCount }, tf] = await Promise.all([import('../backend/select.js'), import('../backend/tf.js')]);
  const threads = req.threads ?? 'auto';
  const backend = await selectBackend(req.backend, threads, req.cores);
  const wanted = threadCount(threads, req.cores);
  if (backend.used === 'wasm' && backend.threads !== wanted) {
    req.warn?.(`the wasm backend computes on ${backend.threads} thread(s), not ${wanted}: it started earlier in this process, and its thread pool is fixed then (results are the same on any thread count; only speed differs)`);
  }
  tf.enableProdMode();
  return backend;
}

/** Runs a planned experiment into a new run folder (made only now, after every check passed). */
export async function runExperiment(plan: PlannedRun, opts: RunOptions = {}): Promise<RunOutcome> {
  // Start what waits on the disk now: it proceeds on other threads while TensorFlow.js loads.
  dataKind(plan.spec.data).prefetch({ spec: plan.spec, specDir: plan.specDir, session: plan.session });
  const git = gitState(plan.specDir);
  const backend = await loadBackend({ backend: opts.backend ?? plan.spec.backend, threads: opts.threads ?? plan.spec.threads, cores: opts.cores, warn: opts.warn });
  const runDir = RunDir.create(opts.out ?? 'runs', plan.spec.name);
  runDir.write(RUN_FILES.spec, plan.loaded.text);
  runDir.write(RUN_FILES.resolved, plan.loaded.resolvedYaml);
  const record = newRecord(runDir, plan, backend, opts);
  return executeRun({ plan, runDir, record, backend, io: opts, git, noCache: opts.noCache, until: opts.until });
}

/** What executeRun needs: the plan, its run folder and record (new, or resumed), and the backend in use. */
export interface RunStart {
  readonly plan: PlannedRun;
  readonly runDir: RunDir;
  readonly record: RunRecord;
  readonly backend: BackendInfo;
  readonly io: RunIO;
  /** git's answer, recorded when it comes. */
  readonly git?: Promise<RunRecord['git']>;
  /** Set by `runner resume`: fit continues from this checkpoint. */
  readonly resume?: Checkpoint;
  readonly noCache?: boolean;
  /** Where fit stops (an adaptive sweep's rung). */
  readonly until?: StopAt;
  /** Take the run folder's lock over from a process another machine held it by (a sweep queue says it is gone). */
  readonly takeOver?: boolean;
}

/** Runs the stages into a run folder (new, or resumed) and keeps run.json current; Math.random is the process's again afterwards. */
export async function executeRun(start: RunStart): Promise<RunOutcome> {
  // One process writes a run folder at a time (two resumes started at the same moment: one is refused).
  const lock = RunLock.acquire(start.runDir.path, start.io.warn, start.takeOver);
  // What a killed process left half-written (kill -9 during a save) goes before anything is written.
  for (const sub of ['', RUN_FILES.model, RUN_FILES.checkpoint]) removeLeftovers(start.runDir.file(sub));
  try {
    return await runLocked(start);
  } finally {
    lock.release();
  }
}

/** Writes how the stages ended into the record (status, end, duration, error); an abort that failed a stage is an interruption. */
function recordOutcome(record: RunRecord, result: ExecutionResult, aborted: boolean) {
  const status: RunOutcome['status'] = result.status === 'failed' && aborted ? 'interrupted' : result.status;
  const endedAt = new Date();
  Object.assign(record, { status, endedAt: endedAt.toISOString(), durationMs: endedAt.getTime() - Date.parse(record.startedAt) });
  const error = result.failed ? { stage: result.failed.stage, message: messageOf(result.failed.error) } : undefined;
  if (error) record.error = error;
  else delete record.error;
  if (status === 'stopped' && result.stopped) record.stopped = { epoch: result.stopped.epoch, reason: result.stopped.message };
  else delete record.stopped;
  const exitCode: number = status === 'completed' || status === 'stopped' ? EXIT.ok : status === 'interrupted' ? EXIT.interrupted : EXIT.failed;
  return { status, error, exitCode };
}

async function runLocked(start: RunStart): Promise<RunOutcome> {
  const { plan, runDir, record, backend, io } = start;
  const save = () => runDir.writeJson(RUN_FILES.run, record);
  save();
  const recorded = (start.git ?? Promise.resolve(record.git)).then((git) => {
    record.git = git;
    save();
  });
  const warnings: string[] = [];
  const log = runLogger(runDir, io.warn, warnings);
  const signal = io.interrupt?.signal ?? new AbortController().signal;
  io.interrupt?.beforeExit(() => {
    Object.assign(record, { status: 'interrupted', endedAt: new Date().toISOString() });
    save();
    return EXIT.interrupted;
  });
  // Dropout masks and any other tfjs randomness draw their seeds from Math.random: make it the run's.
  const random = installSeededRandom(plan.spec.seed);
  try {
    log.info({ backend, seed: plan.spec.seed, resume: start.resume?.cursor }, start.resume ? 'run resumed' : 'run started');
    for (const skipped of backend.skipped) log.info(`backend skipped: ${skipped}`);
    const ctx: StageContext = {
      spec: plan.spec, specDir: plan.specDir, runDir, log, signal, seed: plan.spec.seed, data: plan.session, random,
      progress: io.progress ?? silentProgress,
      ...(start.resume ? { resume: start.resume } : {}),
      ...(start.until ? { until: start.until } : {}),
      annotate: (key, value) => {
        record[key] = value;
        save();
      },
    };
    // A spec value the data refused: say where the spec sets it, as a spec problem would.
    const explain = (err: unknown) => {
      if (!(err instanceof SpecValueError)) return err;
      const problem = plan.loaded.problemAt(err.path, err.detail);
      return new RunnerError(formatProblem({ ...problem, file: problem.file ?? plan.loaded.file }), EXIT.failed);
    };
    const hooks = { ...(await stageCacheHooks(ctx, record, warnings, start.noCache)), signal, explain };
    const result = await executeStages(plan.stages, ctx, (stages) => {
      record.stages = stages as StageRecord[];
      save();
    }, Date.now, hooks);
    await recorded;
    const { status, error, exitCode } = recordOutcome(record, result, signal.aborted);
    save();
    if (status === 'completed') {
      // The card is read back from the folder, as runner card writes it; a card that cannot be written is a warning, not a failed run.
      try {
        writeModelCard(runDir.path);
      } catch (err) {
        log.warn(`MODEL_CARD.md was not written: ${(err as Error).message}`);
      }
    }
    // The record is final: a second Ctrl-C from here on quits with the exit code it says.
    io.interrupt?.beforeExit(() => exitCode);
    if (error) log.error({ err: result.failed?.error, stage: error.stage }, `stage '${error.stage}' failed`);
    log.info({ status }, 'run ended');
    log.flush();
    (result.outputs.get('compile') as { model?: TF.LayersModel } | undefined)?.model?.dispose();
    const summary = result.outputs.get('evaluate') as TestSummary | undefined;
    return { exitCode, status, runDir: runDir.path, id: runDir.id, stages: result.stages, summary, error, backend };
  } finally {
    random.uninstall();
  }
}
