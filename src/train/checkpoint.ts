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
  readonly reason: 'epoch' | 'best' | 'interrupt' | 'rung';
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
/** 2: state.json carries the sha256 of its own content; format 1 (without it) is still read. */
const FORMAT = 2;
/** How the arrays file of a checkpoint is named: nothing outside the checkpoint folder. */
const ARRAYS_FILE = /^arrays-\d+-\d+-[0-9a-f]{6}\.bin$/;
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

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
  const body = {
    formatVersion: FORMAT, reason: cp.reason, cursor, arraysFile, bytes: blob.length,
    sha256: sha256(blob), entries,
    optimizerScalars: cp.optimizer.scalars, ...(cp.optimizer.missing ? { optimizerMissing: cp.optimizer.missing } : {}), random: cp.random, earlyStopping: cp.earlyStopping,
    trainer: cp.trainer, backend: cp.backend, writtenAt: new Date().toISOString(),
  };
  // The state's own hash: a hand edit (an epoch, an offset, a file name) is refused, as a damaged array is.
  writeFileAtomic(join(dir, STATE), `${JSON.stringify({ ...body, stateSha256: sha256(JSON.stringify(body)) }, null, 1)}\n`);
  for (const f of readdirSync(dir)) if (f.startsWith('arrays-') && f !== arraysFile) rmSync(join(dir, f), { force: true });
}

/** Whether a checkpoint was written to the end in this folder (its state is written last): one a kill cut short is not. */
export const hasCheckpoint = (dir: string): boolean => existsSync(join(dir, STATE));

/** Reads and verifies the checkpoint in a folder; a RunnerError names what is missing or damaged. */
export function loadCheckpoint(dir: string): Checkpoint {
  if (!hasCheckpoint(dir)) throw new RunnerError(`${dirname(dir)} has no checkpoint to resume from`, 2, ["checkpoints are written every epoch unless train.checkpoint is 'none', and when a run is interrupted"]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(join(dir, STATE), 'utf8'));
  } catch (err) {
    throw new RunnerError(`${join(dir, STATE)} is damaged: ${(err as Error).message}`);
  }
  const state = checkedState(parsed, join(dir, STATE));
  const file = join(dir, state.arraysFile);
  const raw = existsSync(file) ? readFileSync(file) : undefined;
  if (!raw || raw.length !== state.bytes || sha256(raw) !== state.sha256) {
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

/** state.json as written: what loadCheckpoint reads of it. */
interface State {
  formatVersion: number; reason: Checkpoint['reason']; cursor: Omit<Cursor, 'order'>; arraysFile: string; bytes: number; sha256: string;
  entries: Entry[]; optimizerScalars: Record<string, number>; optimizerMissing?: string; random: Checkpoint['random'];
  earlyStopping?: Checkpoint['earlyStopping']; trainer: string; backend: string; stateSha256?: string;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Checks state.json before anything in it is used: its own sha256 (format 2), the cursor, the
 * arrays file (a name inside the checkpoint folder) and every entry within the arrays' bytes. A
 * state edited by hand or damaged is refused (exit 2) with what is wrong, never trusted.
 */
function checkedState(value: unknown, file: string): State {
  const bad = (why: string) => new RunnerError(`${file} is not a checkpoint this runner can trust: ${why}`, 2, ['resume needs the checkpoint as fit wrote it; run the spec again with runner run']);
  const s = value as Partial<State> | null;
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw bad('not a JSON object');
  if (s.formatVersion !== FORMAT && s.formatVersion !== 1) throw bad(`format ${String(s.formatVersion)}; this runner reads formats 1 and ${FORMAT}`);
  if (s.formatVersion === FORMAT) {
    const { stateSha256, ...body } = s;
    if (stateSha256 !== sha256(JSON.stringify(body))) throw bad('its content does not match its sha256 (edited by hand?)');
  }
  const c = s.cursor;
  if (!c || !Number.isSafeInteger(c.epoch) || c.epoch < 1 || !isCount(c.step) || !Array.isArray(c.sums) || !c.sums.every(Number.isFinite)) throw bad('cursor must hold an epoch >= 1, a batch count >= 0 and finite sums');
  if (typeof s.arraysFile !== 'string' || !ARRAYS_FILE.test(s.arraysFile)) throw bad(`arraysFile ${JSON.stringify(s.arraysFile)} is not an arrays file of this folder`);
  if (!isCount(s.bytes) || typeof s.sha256 !== 'string' || !Array.isArray(s.entries)) throw bad('bytes, sha256 and entries are required');
  for (const e of s.entries) {
    if (!e || !['weights', 'optimizer', 'best', 'order'].includes(e.group) || !isCount(e.offset) || !isCount(e.length) || e.offset % 4 !== 0 || e.offset + e.length * 4 > s.bytes) {
      throw bad(`entry ${JSON.stringify(e?.name)} lies outside the ${s.bytes} bytes of ${s.arraysFile}`);
    }
  }
  if (!['epoch', 'best', 'interrupt', 'rung'].includes(s.reason as string) || typeof s.trainer !== 'string' || typeof s.backend !== 'string' || typeof s.random !== 'object') throw bad('reason, trainer, backend and random are required');
  return s as State;
}
