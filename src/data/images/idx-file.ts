import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createGunzip } from 'node:zlib';
import { RunnerError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/files.js';
import { bytesText, checkReadable, limitsFrom, type Limits } from '../../core/limits.js';
import { parseIdx, type IdxArray } from './idx.js';


/** An IDX file as read: its array, and the sha256 of the file as it is on disk (gzipped or not). */
export interface IdxFile { readonly idx: IdxArray; readonly sha256: string }

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
/** Hex digest of some bytes. */
export function hash(algo: 'sha256' | 'md5', bytes: Uint8Array): string {
  return createHash(algo).update(bytes).digest('hex');
}
const sha256 = (b: Uint8Array) => hash('sha256', b);

/**
 * Reads IDX files, asynchronously: file reads and gunzip run on libuv's threads, so they overlap
 * with whatever the main thread does meanwhile. A gzipped file is decompressed once and kept in
 * `cacheDir` (keyed by path, size and modification time, with the .gz file's sha256 beside it):
 * decompressing Fashion-MNIST takes half a second, reading it back a few milliseconds.
 * A damaged cache entry is rebuilt. One reader per run: reads started ahead (prefetch) are its own.
 */
export class IdxReader {
  /** Reads started ahead of time, by absolute path. */
  private readonly prefetched = new Map<string, Promise<IdxFile>>();

  constructor(private readonly cacheDir?: string, private readonly limits: Limits = limitsFrom()) {}

  /** The file's array, from a read started by prefetch when there is one. */
  read(path: string, rank: number): Promise<IdxFile> {
    const abs = resolve(path);
    const early = this.prefetched.get(abs);
    if (early) {
      this.prefetched.delete(abs);
      // A failed prefetch is read again, so that its error is reported where it belongs.
      return early.catch(() => read(abs, rank, this.limits, this.cacheDir));
    }
    return read(abs, rank, this.limits, this.cacheDir);
  }

  /** Starts reading files now; read() picks the results up later. */
  prefetch(files: readonly { path: string; rank: number }[]): void {
    for (const f of files) {
      const abs = resolve(f.path);
      const pending = read(abs, f.rank, this.limits, this.cacheDir);
      pending.catch(() => {}); // handled when picked up
      this.prefetched.set(abs, pending);
    }
  }
}

/** The whole file in one read request (readFile goes back to the main thread every 512 KiB, which stalls while it is busy). */
async function readWhole(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(buffer, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buffer.subarray(0, done);
  } finally {
    await handle.close();
  }
}

async function read(abs: string, rank: number, limits: Limits, cacheDir?: string): Promise<IdxFile> {
  // Only a regular file within the limit is opened: a FIFO would block, a device would never end.
  const info = checkReadable(abs, 'IDX file', limits);
  const key = sha256(Buffer.from(`${abs}\0${info.size}\0${info.mtimeMs}`)).slice(0, 24);
  const cached = cacheDir ? join(cacheDir, 'idx', `${key}.idx`) : undefined;
  if (cached && existsSync(cached) && existsSync(`${cached}.sha256`)) {
    try {
      const [bytes, digest] = await Promise.all([readWhole(cached), readFile(`${cached}.sha256`, 'utf8')]);
      return { idx: parseIdx(bytes, abs, rank), sha256: digest.trim() };
    } catch {
      await rm(cached, { force: true });
    }
  }
  const bytes = await readWhole(abs);
  if (!isGzip(bytes)) return { idx: parseIdx(bytes, abs, rank), sha256: sha256(bytes) };
  let raw: Uint8Array;
  try {
    raw = await inflateIdx(bytes, abs, limits.fileBytes);
  } catch (err) {
    if (err instanceof RunnerError) throw err;
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

/**
 * Decompresses a gzipped IDX file as a stream: the header's dimensions are checked against the
 * limit as soon as they arrive, and no more than the header announces is ever held, so a small
 * file that inflates to gigabytes is refused at once instead of filling memory.
 */
function inflateIdx(gz: Uint8Array, name: string, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const inflate = createGunzip();
    const chunks: Buffer[] = [];
    let got = 0;
    let expected: number | undefined;
    const stop = (err: Error) => {
      inflate.destroy();
      reject(err);
    };
    inflate.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      if (expected === undefined && got >= 4) {
        const head = Buffer.concat(chunks);
        const rank = head[3]!;
        if (got >= 4 + 4 * rank) expected = 4 + 4 * rank + Array.from({ length: rank }, (_, i) => head.readUInt32BE(4 + 4 * i)).reduce((a, b) => a * b, 1);
        if (expected !== undefined && expected > limit) {
          stop(new RunnerError(`${name}: its header announces ${bytesText(expected)} of data, over the ${bytesText(limit)} runner reads`, 2, ['raise the limit with RUNNER_MAX_FILE_MB=<megabytes>']));
        }
      }
      if (got > (expected ?? limit)) stop(new RunnerError(`${name} decompresses to more than ${expected !== undefined ? `the ${expected} bytes its header announces` : bytesText(limit)}`, 2, ['the file is damaged or not an IDX file']));
    });
    inflate.on('end', () => resolve(Buffer.concat(chunks)));
    inflate.on('error', reject);
    inflate.end(gz);
  });
}
