import type { Logger } from 'pino';
import type { RandomState } from '../core/random.js';
import type { DataSession } from '../data/session.js';
import type { LoadOutput, Prepared } from '../data/prepared.js';
import type { RunRecord, Annotation } from '../runs/record.js';
import type { RunDir } from '../runs/run-dir.js';
import type { ExperimentSpec } from '../spec/types.js';
import type { Checkpoint } from '../train/checkpoint.js';
import type { FitOutput, ModelOutput, TestSummary } from './types.js';

/** Progress of a long stage, shown as a bar on a TTY or a line per epoch otherwise. */
export interface Progress {
  epochStart(epoch: number, epochs: number, batches: number): void;
  batch(done: number): void;
  epochEnd(epoch: number, logs: Record<string, number>): void;
}

/** A progress display that shows nothing (tests, sweeps' children without a terminal). */
export const silentProgress: Progress = { epochStart() {}, batch() {}, epochEnd() {} };

/** The Math.random a run installed (tfjs draws dropout masks from it): its state goes into checkpoints. */
export interface GlobalRandom {
  state(): RandomState;
  restore(state: RandomState): void;
}

/** What a stage may touch: the spec, the run folder, the log, the seed and a cancel signal. */
export interface StageContext {
  readonly spec: ExperimentSpec;
  readonly specDir: string;
  readonly runDir: RunDir;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly seed: number;
  readonly progress: Progress;
  /** The run's data reads: tables and IDX files read once, downloads tried once. */
  readonly data: DataSession;
  /** The run's Math.random; absent when a test calls a stage without the engine. */
  readonly random?: GlobalRandom;
  /** Set by `runner resume`: fit continues from this checkpoint instead of starting. */
  readonly resume?: Checkpoint;
  /** An adaptive sweep's rung: fit stops after this many epochs (of train.epochs), writes a checkpoint and ends the run as stopped. */
  readonly until?: StopAt;
  /** Adds an entry to run.json (the data fingerprint, the model summary, ...). */
  annotate<K extends Annotation>(key: K, value: RunRecord[K]): void;
}

/** Where fit stops before train.epochs, and why (for run.json and the log). */
export interface StopAt { readonly epochs: number; readonly reason: string }

/** The six stages' outputs by name: what each stage hands to the stages that need it. */
export interface StageOutputs {
  load: LoadOutput;
  normalize: Prepared;
  build: ModelOutput;
  compile: ModelOutput;
  fit: FitOutput;
  evaluate: TestSummary;
}

export type StageName = keyof StageOutputs;

/** One step of the pipeline: what it needs (names tied to its input's keys), and how it turns their outputs into its own. */
export interface Stage<Out = unknown, In = Record<string, unknown>, Ctx = StageContext> {
  readonly name: string;
  readonly needs: readonly (keyof In & string)[];
  run(inputs: In, ctx: Ctx): Promise<Out>;
}

/** A stage of the registry: its name and needs are stage names, its input is their outputs, its output its own. */
export type RunnerStage<N extends StageName, Needs extends StageName = never> = Stage<StageOutputs[N], Pick<StageOutputs, Needs>> & { readonly name: N };
