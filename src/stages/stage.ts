import type { Logger } from 'pino';
import type { Checkpoint } from '../train/checkpoint.js';
import type { RunDir } from '../runs/run-dir.js';
import type { ExperimentSpec } from '../spec/types.js';

/** Progress of a long stage, shown as a bar on a TTY or a line per epoch otherwise. */
export interface Progress {
  epochStart(epoch: number, epochs: number, batches: number): void;
  batch(done: number): void;
  epochEnd(epoch: number, logs: Record<string, number>): void;
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
  /** Set by `runner resume`: fit continues from this checkpoint instead of starting. */
  readonly resume?: Checkpoint;
  /** Adds a top-level entry to run.json (e.g. the data fingerprint). */
  annotate(key: string, value: unknown): void;
}

/** One step of the pipeline: what it needs, and how it turns their outputs into its own. */
export interface Stage<Out = unknown, In = Record<string, unknown>, Ctx = StageContext> {
  readonly name: string;
  readonly needs: readonly string[];
  run(inputs: In, ctx: Ctx): Promise<Out>;
}
