import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { writeFileAtomic } from '../pipeline/run-dir.js';
import { parseIdx, type IdxArray } from './idx.js';

/** An IDX file as read: its array, and the sha256 of the file as it is on disk (gzipped or not). */
export interface IdxFile { readonly idx: IdxArray; readonly sha256: string }

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Reads an IDX file. A gzipped one is decompressed once and kept in `cacheDir` (keyed by path,
 * size and modification time, with the .gz file's sha256 beside it): decompressing Fashion-MNIST
 * takes half a second, reading it back a few milliseconds. A damaged cache entry is rebuilt.
 */
export function readIdxFile(path: string, rank: number, cacheDir?: string): IdxFile {
  const abs = resolve(path);
  const stat = statSync(abs);
  const key = sha256(Buffer.from(`${abs}\0${stat.size}\0${stat.mtimeMs}`)).slice(0, 24);
  const cached = cacheDir ? join(cacheDir, 'idx', `${key}.idx`) : undefined;
  if (cached && existsSync(cached) && existsSync(`${cached}.sha256`)) {
    try {
      return { idx: parseIdx(readFileSync(cached), abs, rank), sha256: readFileSync(`${cached}.sha256`, 'utf8').trim() };
    } catch {
      rmSync(cached, { force: true });
    }
  }
  const bytes = readFileSync(abs);
  if (!isGzip(bytes)) return { idx: parseIdx(bytes, abs, rank), sha256: sha256(bytes) };
  let raw: Uint8Array;
  try {
    raw = gunzipSync(bytes);
  } catch {
    return { idx: parseIdx(bytes, abs, rank), sha256: sha256(bytes) }; // parseIdx reports the corrupt gzip stream
  }
  const idx = parseIdx(raw, abs, rank);
  const digest = sha256(bytes);
  if (cached) {
    try {
      writeFileAtomic(cached, raw);
      writeFileAtomic(`${cached}.sha256`, `${digest}\n`);
    } catch {
      // A cache that cannot be written only costs time.
    }
  }
  return { idx, sha256: digest };
}
