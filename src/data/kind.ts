import type { LoadedSpec } from '../spec/load.js';
import type { DataSpec, ExperimentSpec } from '../spec/types.js';
import type { DataFingerprint, LoadOutput, Prepared } from './prepared.js';
import type { DataSession } from './session.js';

/** Where a data kind's notes go: warnings for the person (and the run log), info for the log. */
export interface DataLog { warn(msg: string): void; info(msg: string): void }

/** Where a kind reads from: the spec, the folder its relative paths start from, the run's reads. */
export interface DataPlace { readonly spec: ExperimentSpec; readonly specDir: string; readonly session: DataSession }

/**
 * One kind of data (images, tables; text next): how a spec's data is checked before a run,
 * read and split (the load stage), and turned into model inputs (the normalize stage).
 */
export interface DataKind<S extends DataSpec = DataSpec> {
  /** Whether a spec's data section is of this kind. */
  owns(data: DataSpec): data is S;
  /** Problems found by reading the data against the spec, thrown before any run folder exists (runner validate too). */
  check(loaded: LoadedSpec, specDir: string, session: DataSession): void;
  /** Starts slow reads now, while TensorFlow.js loads. */
  prefetch(at: DataPlace): void;
  /** What identifies the source files for the stage cache, without reading them; undefined when this data is not cached. */
  cacheSource(at: DataPlace, log: DataLog): Promise<unknown>;
  /** Reads the data, applies the limits and holds out the test and validation splits. */
  load(at: DataPlace, log: DataLog): Promise<{ output: LoadOutput; fingerprint: DataFingerprint }>;
  /** Applies the preprocess steps, fitted on the training split only. */
  prepare(loaded: LoadOutput, spec: ExperimentSpec, log: DataLog): Prepared;
}
