import type { BackendInfo } from '../backend/select.js';
import type { DataFingerprint } from '../data/prepared.js';

/** Version of the run.json layout this runner writes and reads; readers refuse newer ones. */
export const RUN_FORMAT = 1;

/**
 * The statuses run.json holds; a reader adds 'crashed' for a running record whose process is gone.
 * 'stopped': an adaptive sweep stopped the run at a rung (run.json's `stopped` says where); it can go on with runner resume.
 */
export type RecordedStatus = 'running' | 'completed' | 'failed' | 'interrupted' | 'stopped';

/** Where and why a stopped run stopped: after this epoch, at an adaptive sweep's rung. */
export interface StopRecord { readonly epoch: number; readonly reason: string }

/** What run.json says about one stage. */
export interface StageRecord {
  name: string;
  status: 'pending' | 'running' | 'done' | 'failed' | 'skipped' | 'stopped';
  startedAt?: string;
  durationMs?: number;
  error?: string;
  skippedBecause?: string;
  /** The output came from the stage cache; the stage did not run. */
  cached?: boolean;
}

/** What `runner sweep` records in each of its trials' run.json. */
export interface SweepMeta {
  readonly id: string;
  /** The trial's spec hash, as sweep.json lists it. */
  readonly trial?: string;
  readonly metric: string;
  readonly goal: 'maximize' | 'minimize';
  readonly params: Record<string, unknown>;
  /** An adaptive sweep's scheduler: its trials may stop at a rung. */
  readonly scheduler?: { readonly kind: 'asha' | 'hyperband'; readonly max: number };
}

/** Versions that decide whether two runs can be compared. */
export interface Versions { readonly runner: string; readonly node: string; readonly tfjs: string }

/** The machine a run ran on. */
export interface HostInfo {
  readonly hostname: string;
  readonly platform: string;
  readonly arch: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
}

/** One `runner resume` of a run: when, from where, on which backend. */
export interface ResumeEntry { readonly at: string; readonly epoch: number; readonly batch: number; readonly checkpoint: string; readonly backend: string }

/** run.json: a run's identity, what was asked, where it ran, how each stage went and how it ended. */
export interface RunRecord {
  formatVersion: number;
  id: string;
  name: string;
  status: RecordedStatus;
  pid: number;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  command: readonly string[];
  /** dir: where relative data paths in resolved.yaml are resolved (reproduce and resume need it). */
  spec: { file: string; dir?: string; overrides: readonly string[] };
  reproduces?: string;
  resumes?: readonly ResumeEntry[];
  seed: number;
  specHash: string;
  variantHash: string;
  sweep?: SweepMeta;
  backend: BackendInfo;
  versions: Versions | null;
  git: { commit: string; dirty: boolean } | null;
  host: HostInfo | null;
  stages: StageRecord[];
  /** Stages whose output came from the stage cache. */
  cached?: string[];
  data?: DataFingerprint;
  model?: { params: number; inputShape: readonly number[]; summary: readonly string[] };
  trainer?: 'fused' | 'keras';
  error?: { stage: string; message: string };
  stopped?: StopRecord;
}

/** The entries stages add to run.json as they learn them (ctx.annotate). */
export type Annotation = 'cached' | 'data' | 'model' | 'trainer';
