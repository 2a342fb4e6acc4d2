import { dirname, relative, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import seedrandom from 'seedrandom';
import type { BackendChoice, BackendInfo } from '../backend/select.js';
import type * as TF from '../backend/tf.js';
import { silentProgress } from '../cli/progress.js';
import { prefetchDataset } from '../data/resolve.js';
import { describeEnvironment } from '../pipeline/environment.js';
import { EXIT, messageOf } from '../pipeline/errors.js';
import { executeStages, type StageRecord } from '../pipeline/execute.js';
import { loadSpec } from '../pipeline/load-spec.js';
import { parseOverride } from '../pipeline/overrides.js';
import { RUN_FILES, RUN_FORMAT, RunDir } from '../pipeline/run-dir.js';
import type { Progress, StageContext } from '../pipeline/stage.js';
import { specHash, variantHash } from '../pipeline/spec-hash.js';
import { isTable, type ExperimentSpec } from '../pipeline/spec.js';

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
  /** Set by `runner sweep` on its trials: which sweep, and what it ranks by. */
  readonly sweepMeta?: Record<string, unknown>;
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
  const { spec, text, resolvedYaml } = loadSpec(opts.spec, overrides);
  const specDir = dirname(resolve(opts.spec));
  // Start what waits on the disk and on git now: it proceeds on other threads while TensorFlow.js loads.
  if (!isTable(spec.data)) prefetchDataset(spec.data, specDir);
  const environment = describeEnvironment(specDir);
  const [{ selectBackend }, tf, { STAGES }] = await Promise.all([import('../backend/select.js'), import('../backend/tf.js'), import('../stages/index.js')]);
  const backend = await selectBackend(opts.backend ?? spec.backend);
  tf.enableProdMode();
  // Dropout masks and any other tfjs randomness draw their seeds from Math.random: make it the run's.
  seedrandom(String(spec.seed), { global: true });

  const runDir = RunDir.create(opts.out ?? 'runs', spec.name);
  const startedAt = new Date();
  runDir.write(RUN_FILES.spec, text);
  runDir.write(RUN_FILES.resolved, resolvedYaml);
  const log = runLogger(runDir, opts.warn);
  const record = initialRecord(runDir, spec, backend, startedAt, opts);
  const save = () => runDir.writeJson(RUN_FILES.run, record);
  save();
  const recorded = environment.then((env) => {
    Object.assign(record, env);
    save();
  });
  log.info({ backend, seed: spec.seed }, 'run started');
  for (const skipped of backend.skipped) log.info(`backend skipped: ${skipped}`);

  const signal = opts.signal ?? new AbortController().signal;
  const ctx: StageContext = {
    spec, specDir, runDir, log, signal, seed: spec.seed,
    progress: opts.progress ?? silentProgress,
    annotate: (key, value) => {
      record[key] = value;
      save();
    },
  };
  const result = await executeStages(STAGES, ctx, (stages) => {
    record['stages'] = stages;
    save();
  });

  await recorded;
  const status = result.status === 'failed' && signal.aborted ? 'interrupted' : result.status;
  const endedAt = new Date();
  Object.assign(record, { status, endedAt: endedAt.toISOString(), durationMs: endedAt.getTime() - startedAt.getTime() });
  const error = result.failed ? { stage: result.failed.stage, message: messageOf(result.failed.error) } : undefined;
  if (error) record['error'] = error;
  save();
  if (error) log.error({ err: result.failed?.error, stage: error.stage }, `stage '${error.stage}' failed`);
  log.info({ status }, 'run ended');
  log.flush();
  (result.outputs.get('compile') as { model?: TF.LayersModel } | undefined)?.model?.dispose();
  const summary = result.outputs.get('evaluate') as Record<string, unknown> | undefined;
  return { exitCode: status === 'completed' ? EXIT.ok : status === 'interrupted' ? 130 : EXIT.failed, status, runDir: runDir.path, id: runDir.id, stages: result.stages, summary, error, backend };
}

/** run.json as it starts: identity, what was asked, and placeholders for what git and the stages will tell. */
function initialRecord(runDir: RunDir, spec: ExperimentSpec, backend: BackendInfo, startedAt: Date, opts: RunOptions): Record<string, unknown> {
  return {
    formatVersion: RUN_FORMAT,
    id: runDir.id,
    name: spec.name,
    status: 'running',
    pid: process.pid,
    startedAt: startedAt.toISOString(),
    command: opts.argv ?? ['run', opts.spec, ...(opts.set ?? []).flatMap((s) => ['--set', s])],
    spec: { file: relative(process.cwd(), resolve(opts.spec)) || opts.spec, overrides: opts.set ?? [] },
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
function runLogger(runDir: RunDir, warn?: (msg: string) => void): Logger {
  const file = pino.destination({ dest: runDir.file(RUN_FILES.events), sync: true });
  const streams: pino.StreamEntry[] = [{ level: 'debug', stream: file }];
  if (warn) {
    // Warnings only: errors reach the person through the run's outcome, not twice.
    const forward = (line: string) => {
      const entry = JSON.parse(line) as { msg: string; level: number };
      if (entry.level === 40) warn(entry.msg);
    };
    streams.push({ level: 'warn', stream: { write: forward } });
  }
  return pino({ level: 'debug', base: { run: runDir.id } }, pino.multistream(streams));
}
