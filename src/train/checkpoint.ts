import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RunnerError } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import type { RandomState } from '../core/random.js';
import type { NamedArray, OptimizerState } from './types.js';

/** Where training stands: the epoch to run next and, after an interruption, how far into it. */
export interface Cursor {
  /** The epoch in progress or next (1-based). */
  readonly epoch: number;
  /** Batches of that epoch already trained (0 at an epoch boundary). */
  readonly step: number;
  /** The epoch's running sums of batch loss and metrics (weighted by batch size), mid-epoch. */
  readonly sums: readonly number[];
  /** The example order: this epoch's when `within`, else the last epoch's (each shuffle starts from it). */
  readonly order?: Uint32Array;
  /** True when the checkpoint is inside the epoch: its order is drawn and `step` batches are trained. */
  readonly within?: boolean;
}

/** Everything fit needs to continue exactly where it stopped. */
export interface Checkpoint {
  readonly reason: 'epoch' | 'best' | 'interrupt';
  readonly cursor: Cursor;
  readonly weights: readonly NamedArray[];
  readonly optimizer: OptimizerState;
  /** The restoreBestWeights snapshot, when early stopping keeps one. */
  readonly best?: readonly NamedArray[];
  readonly random: { readonly shuffle: RandomState; readonly global?: RandomState };
  readonly earlyStopping?: { readonly stopper?: Record<string, unknown>; readonly best?: Record<string, unknown> };
  readonly trainer: string;
  readonly backend: string;
}

const STATE = 'state.json';
const FORMAT = 1;

interface Entry { group: 'weights' | 'optimizer' | 'best' | 'order'; name: string; shape: number[]; offset: number; length: number }

/**
 * Writes a checkpoint atomically: the arrays to a new file, then state.json naming it and its
 * sha256 (the commit point), then older array files are removed. A crash at any moment leaves
 * the previous checkpoint or the new one, never a mix.
 */
export function saveCheckpoint(dir: string, cp: Checkpoint): void {
  const entries: Entry[] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  const add = (group: Entry['group'], a: { name: string; shape: readonly number[]; values: Float32Array | Uint32Array }) => {
    entries.push({ group, name: a.name, shape: [...a.shape], offset, length: a.values.length });
    parts.push(new Uint8Array(a.values.buffer, a.values.byteOffset, a.values.byteLength));
    offset += a.values.byteLength;
  };
  cp.weights.forEach((w) => add('weights', w));
  cp.optimizer.arrays.forEach((a) => add('optimizer', a));
  cp.best?.forEach((w) => add('best', w));
  if (cp.cursor.order) add('order', { name: 'order', shape: [cp.cursor.order.length], values: cp.cursor.order });
  const blob = Buffer.concat(parts);
  const arraysFile = `arrays-${cp.cursor.epoch}-${cp.cursor.step}-${randomBytes(3).toString('hex')}.bin`;
  writeFileAtomic(join(dir, arraysFile), blob);
  const { order: _order, ...cursor } = cp.cursor;
  const state = {
    formatVersion: FORMAT, reason: cp.reason, cursor, arraysFile, bytes: blob.length,
    sha256: createHash('sha256').update(blob).digest('hex'), entries,
    optimizerScalars: cp.optimizer.scalars, ...(cp.optimizer.missing ? { optimizerMissing: cp.optimizer.missing } : {}), random: cp.random, earlyStopping: cp.earlyStopping,
    trainer: cp.trainer, backend: cp.backend, writtenAt: new Date().toISOString(),
  };
  writeFileAtomic(join(dir, STATE), `${JSON.stringify(state, null, 1)}\n`);
  for (const f of readdirSync(dir)) if (f.startsWith('arrays-') && f !== arraysFile) rmSync(join(dir, f), { force: true });
}

/** Reads and verifies the checkpoint in a folder; a RunnerError names what is missing or damaged. */
export function loadCheckpoint(dir: string): Checkpoint {
  if (!existsSync(join(dir, STATE))) throw new RunnerError(`${dirname(dir)} has no checkpoint to resume from`, 2, ["checkpoints are written every epoch unless train.checkpoint is 'none', and when a run is interrupted"]);
  let state: { formatVersion: number; reason: Checkpoint['reason']; cursor: Omit<Cursor, 'order'>; arraysFile: string; bytes: number; sha256: string; entries: Entry[]; optimizerScalars: Record<string, number>; optimizerMissing?: string; random: Checkpoint['random']; earlyStopping?: Checkpoint['earlyStopping']; trainer: string; backend: string };
  try {
    state = JSON.parse(readFileSync(join(dir, STATE), 'utf8')) as typeof state;
  } catch (err) {
    throw new RunnerError(`${join(dir, STATE)} is damaged: ${(err as Error).message}`);
  }
  if (state.formatVersion !== FORMAT) throw new RunnerError(`${join(dir, STATE)} has format ${state.formatVersion}; this runner reads format ${FORMAT}`);
  const file = join(dir, state.arraysFile);
  const raw = existsSync(file) ? readFileSync(file) : undefined;
  if (!raw || raw.length !== state.bytes || createHash('sha256').update(raw).digest('hex') !== state.sha256) {
    throw new RunnerError(`the checkpoint in ${dir} is damaged: ${state.arraysFile} ${raw ? 'does not match its sha256' : 'is missing'}`);
  }
  // A copy, so that the float views are 4-byte aligned.
  const buffer = new Uint8Array(raw).buffer;
  const arrays = (group: Entry['group']) => state.entries.filter((e) => e.group === group).map((e) => ({
    name: e.name, shape: e.shape,
    values: group === 'order' ? new Uint32Array(buffer, e.offset, e.length) as unknown as Float32Array : new Float32Array(buffer, e.offset, e.length),
  }));
  const order = arrays('order')[0]?.values as unknown as Uint32Array | undefined;
  const best = arrays('best');
  return {
    reason: state.reason,
    cursor: { ...state.cursor, ...(order ? { order } : {}) },
    weights: arrays('weights'),
    optimizer: { arrays: arrays('optimizer'), scalars: state.optimizerScalars, ...(state.optimizerMissing ? { missing: state.optimizerMissing } : {}) },
    ...(best.length ? { best } : {}),
    random: state.random,
    earlyStopping: state.earlyStopping,
    trainer: state.trainer,
    backend: state.backend,
  };
}
