import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Features } from '../data/features.js';
import type { DataFingerprint, Prepared, Split } from '../data/prepared.js';

/** Bumped whenever the entry layout or what load/normalize compute changes. */
export const CACHE_FORMAT = 4;

/** What a cache entry gives back in place of running load and normalize (preprocess.json is prepared.fitted). */
export interface DataCacheHit {
  readonly prepared: Prepared;
  /** The data fingerprint load recorded in run.json. */
  readonly data: DataFingerprint | undefined;
  /** Warnings load printed (the embedded-digits notice, say), shown again. */
  readonly warnings: readonly string[];
}

const entryDir = (cacheDir: string, key: string) => join(cacheDir, 'stages', key);

type ArrayRef = { offset: number; length: number; type: 'u8' | 'f32' };
interface SplitMeta { count: number; size: number; x: ArrayRef; lut?: ArrayRef; perFeature?: boolean; y: ArrayRef; groups?: readonly string[] }
interface Meta {
  format: number; bytes: number; sha256: string;
  splits: Record<'train' | 'val' | 'test', SplitMeta>;
  shapes: Omit<Prepared, 'train' | 'val' | 'test'>;
  data: DataFingerprint | undefined; warnings: string[];
}

/** Writes an entry (a blob of the typed arrays and a meta.json with its sha256), into place by one rename. */
export function writeCacheEntry(cacheDir: string, key: string, hit: DataCacheHit): void {
  const parts: Uint8Array[] = [];
  let offset = 0;
  const add = (a: Uint8Array | Float32Array): ArrayRef => {
    const pad = (4 - (offset % 4)) % 4;
    if (pad) parts.push(new Uint8Array(pad));
    offset += pad;
    const ref: ArrayRef = { offset, length: a.length, type: a instanceof Float32Array ? 'f32' : 'u8' };
    parts.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    offset += a.byteLength;
    return ref;
  };
  const split = (s: Split): SplitMeta => {
    const x = s.x;
    const groups = s.groups ? { groups: s.groups } : {};
    if ('values' in x) return { count: s.count, size: x.size, x: add(x.values), y: add(s.y), ...groups };
    return { count: s.count, size: x.size, x: add(x.bytes), lut: add(x.lut), perFeature: x.perFeature, y: add(s.y), ...groups };
  };
  const { train, val, test, ...shapes } = hit.prepared;
  const splits = { train: split(train), val: split(val), test: split(test) };
  const blob = Buffer.concat(parts);
  const meta: Meta = { format: CACHE_FORMAT, bytes: blob.length, sha256: createHash('sha256').update(blob).digest('hex'), splits, shapes, data: hit.data, warnings: [...hit.warnings] };
  const final = entryDir(cacheDir, key);
  if (existsSync(final)) return;
  const tmp = `${final}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'arrays.bin'), blob);
  writeFileSync(join(tmp, 'meta.json'), JSON.stringify(meta));
  try {
    renameSync(tmp, final);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process put the same entry in place first
  }
}

/**
 * Reads an entry; undefined when there is none. A damaged entry (unreadable meta, wrong size or
 * sha256) is removed and reported through `damaged`, so the caller rebuilds it: never used.
 */
export function readCacheEntry(cacheDir: string, key: string, damaged: (why: string) => void): DataCacheHit | undefined {
  const dir = entryDir(cacheDir, key);
  if (!existsSync(dir)) return undefined;
  try {
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta;
    if (meta.format !== CACHE_FORMAT) throw new Error(`format ${meta.format}, expected ${CACHE_FORMAT}`);
    // Read into a fresh ArrayBuffer so that the float views are 4-byte aligned.
    const file = join(dir, 'arrays.bin');
    const size = statSync(file).size;
    if (size !== meta.bytes) throw new Error(`arrays.bin has ${size} bytes, expected ${meta.bytes}`);
    const bytes = new Uint8Array(size);
    const fd = openSync(file, 'r');
    try {
      for (let at = 0; at < size;) at += readSync(fd, bytes, at, size - at, at);
    } finally {
      closeSync(fd);
    }
    if (createHash('sha256').update(bytes).digest('hex') !== meta.sha256) throw new Error('arrays.bin does not match its sha256');
    const view = (r: ArrayRef) => (r.type === 'f32' ? new Float32Array(bytes.buffer, r.offset, r.length) : new Uint8Array(bytes.buffer, r.offset, r.length));
    const split = (m: SplitMeta): Split => {
      const x: Features = m.lut ? { bytes: view(m.x) as Uint8Array, size: m.size, lut: view(m.lut) as Float32Array, perFeature: m.perFeature ?? false } : { values: view(m.x) as Float32Array, size: m.size };
      return { x, y: view(m.y) as Float32Array, count: m.count, ...(m.groups ? { groups: m.groups } : {}) };
    };
    const prepared: Prepared = { ...meta.shapes, train: split(meta.splits.train), val: split(meta.splits.val), test: split(meta.splits.test) };
    return { prepared, data: meta.data, warnings: meta.warnings };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    damaged(`stage cache entry ${dir} is damaged (${(err as Error).message}); rebuilding it`);
    return undefined;
  }
}
