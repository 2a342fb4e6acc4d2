import { dirname, relative, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import type { BackendChoice, BackendInfo } from '../backend/select.js';
import type * as TF from '../backend/tf.js';
import { interruptCleanup } from '../cli/interrupt.js';
import { silentProgress } from '../cli/progress.js';
import { prefetchDataset } from '../data/images/resolve.js';
import { describeEnvironment } from '../runs/environment.js';
import { EXIT, messageOf } from '../core/errors.js';
import { executeStages, type ExecuteHooks, type StageRecord } from '../pipeline/execute.js';
import { loadSpec } from '../spec/load.js';
import { parseOverride } from '../spec/overrides.js';
import { RUN_FILES, RUN_FORMAT, RunDir } from '../runs/run-dir.js';
import type { Progress, StageContext } from '../stages/stage.js';
import { specHash, variantHash } from '../spec/hash.js';
import { isTable, type ExperimentSpec } from '../spec/types.js';
import { dataCacheKey, readDataCache, writeDataCache } from '../pipeline/stage-cache.js';
import type { Prepared } from '../data/prepared.js';
import type { Checkpoint } from '../train/checkpoint.js';
import { seedGlobalRandom } from '../core/random.js';

export interface RunOptions {
  readonly spec: string;
  readonly set?: readonly string[];
  readonly out?: string;
  readonly backend?: BackendChoice;
  readonly progress?: Progress;
  /** Where warnings for the person go (the run log gets them too). */
  readonly warn?: (msg: string) => void;
  readonly signal?: AbortSignal;
  readonly argv?: readonly string[];
  /** Where the spec's relative paths point from (default: the spec file's folder); reproduce passes the original's. */
  readonly specDir?: string;
  /** Set by `runner reproduce`: the id of the run this one reproduces. */
  readonly reproduces?: string;
  /** Set by `runner sweep` on its trials: which sweep, and what it ranks by. */
  readonly sweepMeta?: Record<string, unknown>;
  /** Recompute load and normalize even when the stage cache has them (--no-cache). */
  readonly noCache?: boolean;
}

export interface RunOutcome {
  readonly exitCode: number;
  readonly status: 'completed' | 'failed' | 'interrupted';
  readonly runDir: string;
  readonly id: string;
  readonly stages: readonly StageRecord[];
  readonly summary?: Record<string, unknown>;
  readonly error?: { stage: string; message: string };
  readonly backend: BackendInfo;
}

/** `runner run`: validates the spec, then runs the stage DAG into a new run folder. Spec errors throw before anything is written. */
export async function runExperiment(opts: RunOptions): Promise<RunOutcome> {
  const overrides = (opts.set ?? []).map(parseOverride);
  const specDir = opts.specDir ?? dirname(resolve(opts.spec));
  const { spec, text, resolvedYaml } = loadSpec(opts.spec, overrides, specDir);
  // Start what waits on the disk and on git now: it proceeds on other threads while TensorFlow.js loads.
  if (!isTable(spec.data)) prefetchDataset(spec.data, specDir);
  const environment = describeEnvironment(specDir);
  const backend = await loadBackend(opts.backend ?? spec.backend);
  const runDir = RunDir.create(opts.out ?? 'runs', spec.name);
  runDir.write(RUN_FILES.spec, text);
  runDir.write(RUN_FILES.resolved, resolvedYaml);
  const record = initialRecord(runDir, spec, backend, new Date(), opts, specDir);
  return executeRun({ spec, specDir, runDir, record, backend, environment, opts, noCache: opts.noCache });
}

/** What executeRun needs: a validated spec, its run folder and record, and the backend in use. */
export interface RunStart {
  readonly spec: ExperimentSpec;
  readonly specDir: string;
  readonly runDir: RunDir;
  readonly record: Record<string, unknown>;
  readonly backend: BackendInfo;
  readonly environment?: Promise<Record<string, unknown>>;
  readonly opts: Pick<RunOptions, 'progress' | 'warn' | 'signal'>;
  readonly resume?: Checkpoint;
  /** Recompute load and normalize even when the stage cache has them. */
  readonly noCache?: boolean;
}

/** Loads TensorFlow.js and the backend; seeds nothing yet. */
export async function loadBackend(choice: BackendChoice): Promise<BackendInfo> {
  const [{ selectBackend }, tf] = await Promise.all([import('../backend/select.js'), import('../backend/tf.js')]);
  const backend = await selectBackend(choice);
  tf.enableProdMode();
  return backend;
}

/** Runs the stages into a run folder (new, or resumed) and keeps run.json current. */
export async function executeRun(start: RunStart): Promise<RunOutcome> {
  const { spec, specDir, runDir, record, backend, opts } = start;
  const { STAGES } = await import('../stages/index.js');
  // Dropout masks and any other tfjs randomness draw their seeds from Math.random: make it the run's.
  seedGlobalRandom(spec.seed);
  const startedAt = new Date();
  const save = () => runDir.writeJson(RUN_FILES.run, record);
  save();
  const recorded = (start.environment ?? Promise.resolve(undefined)).then((env) => {
    if (env) Object.assign(record, env);
    save();
  });
  const warnings: string[] = [];
  const log = runLogger(runDir, opts.warn, warnings);
  interruptCleanup(() => {
    Object.assign(record, { status: 'interrupted', endedAt: new Date().toISOString() });
    save();
  });
  log.info({ backend, seed: spec.seed, resume: start.resume?.cursor }, start.resume ? 'run resumed' : 'run started');
  for (const skipped of backend.skipped) log.info(`backend skipped: ${skipped}`);

  const signal = opts.signal ?? new AbortController().signal;
  const ctx: StageContext = {
    spec, specDir, runDir, log, signal, seed: spec.seed,
    progress: opts.progress ?? silentProgress,
    ...(start.resume ? { resume: start.resume } : {}),
    annotate: (key, value) => {
      record[key] = value;
      save();
    },
  };
  const result = await executeStages(STAGES, ctx, (stages) => {
    record['stages'] = stages;
    save();
  }, Date.now, await dataCacheHooks(start, ctx, warnings));

  await recorded;
  interruptCleanup(undefined);
  const status = result.status === 'failed' && signal.aborted ? 'interrupted' : result.status;
  const endedAt = new Date();
  const began = Date.parse(String(record['startedAt'] ?? startedAt.toISOString()));
  Object.assign(record, { status, endedAt: endedAt.toISOString(), durationMs: endedAt.getTime() - began });
  const error = result.failed ? { stage: result.failed.stage, message: messageOf(result.failed.error) } : undefined;
  if (error) record['error'] = error;
  else delete record['error'];
  save();
  if (error) log.error({ err: result.failed?.error, stage: error.stage }, `stage '${error.stage}' failed`);
  log.info({ status }, 'run ended');
  log.flush();
  (result.outputs.get('compile') as { model?: TF.LayersModel } | undefined)?.model?.dispose();
  const summary = result.outputs.get('evaluate') as Record<string, unknown> | undefined;
  return { exitCode: status === 'completed' ? EXIT.ok : status === 'interrupted' ? 130 : EXIT.failed, status, runDir: runDir.path, id: runDir.id, stages: result.stages, summary, error, backend };
}

/**
 * The stage cache around load and normalize: their outputs from an entry for the same data and
 * preprocessing (recorded as `cached` in run.json), or, after they ran, a new entry.
 */
async function dataCacheHooks(start: RunStart, ctx: StageContext, warnings: readonly string[]): Promise<ExecuteHooks> {
  const log = { warn: (m: string) => ctx.log.warn(m), info: (m: string) => ctx.log.info(m) };
  const key = start.noCache ? undefined : await dataCacheKey(start.spec, start.specDir, log);
  const hit = key ? readDataCache(key, (why) => ctx.log.warn(why)) : undefined;
  // Warnings from here on are load's and normalize's, kept with the entry; the download tried and the
  // damaged entry reported above are this run's alone.
  const from = warnings.length;
  ctx.annotate('cached', hit ? ['load', 'normalize'] : []);
  if (hit) {
    ctx.annotate('data', hit.data);
    ctx.runDir.writeJson(RUN_FILES.preprocess, hit.prepared.fitted);
    for (const w of hit.warnings) ctx.log.warn(w);
    ctx.log.info({ key }, 'load and normalize from the stage cache');
    return { preset: new Map<string, unknown>([['load', undefined], ['normalize', hit.prepared]]) };
  }
  if (!key) return {};
  return {
    onDone: (stage, output) => {
      if (stage !== 'normalize') return;
      try {
        writeDataCache(key, { prepared: output as Prepared, data: start.record['data'], warnings: warnings.slice(from) });
      } catch (err) {
        ctx.log.warn(`could not write the stage cache: ${(err as Error).message}`);
      }
    },
  };
}

/** run.json as it starts: identity, what was asked, and placeholders for what git and the stages will tell. */
function initialRecord(runDir: RunDir, spec: ExperimentSpec, backend: BackendInfo, startedAt: Date, opts: RunOptions, specDir: string): Record<string, unknown> {
  return {
    formatVersion: RUN_FORMAT,
    id: runDir.id,
    name: spec.name,
    status: 'running',
    pid: process.pid,
    startedAt: startedAt.toISOString(),
    command: opts.argv ?? ['run', opts.spec, ...(opts.set ?? []).flatMap((s) => ['--set', s])],
    // dir: where relative data paths in resolved.yaml are resolved (reproduce and resume need it).
    spec: { file: relative(process.cwd(), resolve(opts.spec)) || opts.spec, dir: specDir, overrides: opts.set ?? [] },
    ...(opts.reproduces ? { reproduces: opts.reproduces } : {}),
    seed: spec.seed,
    specHash: specHash(spec),
    variantHash: variantHash(spec),
    ...(opts.sweepMeta ? { sweep: opts.sweepMeta } : {}),
    backend,
    // Filled in when git answers; the keys keep their place in the file.
    versions: null,
    git: null,
    host: null,
    stages: [] as StageRecord[],
  };
}

/** The run's pino log: everything to events.jsonl, warnings also to the person. */
function runLogger(runDir: RunDir, warn?: (msg: string) => void, warnings?: string[]): Logger {
  const file = pino.destination({ dest: runDir.file(RUN_FILES.events), sync: true });
  const streams: pino.StreamEntry[] = [{ level: 'debug', stream: file }];
  if (warn || warnings) {
    // Warnings only: errors reach the person through the run's outcome, not twice.
    const forward = (line: string) => {
      const entry = JSON.parse(line) as { msg: string; level: number };
      if (entry.level !== 40) return;
      warn?.(entry.msg);
      warnings?.push(entry.msg);
    };
    streams.push({ level: 'warn', stream: { write: forward } });
  }
  return pino({ level: 'debug', base: { run: runDir.id } }, pino.multistream(streams));
}
