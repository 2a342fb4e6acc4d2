import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Features } from '../data/features.js';
import { cacheDir, downloadOnce, locateIdxFiles, wouldDownload, type ResolveLog } from '../data/images/resolve.js';
import { runnerVersion } from '../runs/environment.js';
import { isTable, type ExperimentSpec } from '../spec/types.js';
import type { Prepared, Split } from '../data/prepared.js';

/** Bumped whenever the entry layout or what load/normalize compute changes. */
const CACHE_FORMAT = 2;

/** What a cache entry gives back in place of running load and normalize (preprocess.json is prepared.fitted). */
export interface DataCacheHit {
  readonly prepared: Prepared;
  /** The data fingerprint load recorded in run.json. */
  readonly data: unknown;
  /** Warnings load printed (the embedded-digits notice, say), shown again. */
  readonly warnings: readonly string[];
}

/** Identity of the files a spec's data comes from, without reading them (path, size and modification time); undefined when not cached. */
async function sourceIdentity(spec: ExperimentSpec, specDir: string, log: ResolveLog): Promise<unknown> {
  const stat = (p: string) => {
    const s = statSync(p);
    return { path: p, size: s.size, mtimeMs: s.mtimeMs };
  };
  const data = spec.data;
  if (isTable(data)) return [data.path, data.testPath].filter((p): p is string => p !== undefined).map((p) => stat(resolve(specDir, p)));
  // IDX files on disk are not cached again: runner's decompressed-IDX cache, read on other threads
  // while TensorFlow.js loads, reaches fit sooner than a stage-cache entry of the same 55 MB (measured
  // in npm run bench), and normalize over bytes only builds a 256-entry table.
  if (locateIdxFiles(data, specDir) || data.dataset !== 'mnist' || !data.allowEmbedded) return undefined;
  // Not on disk: the download is tried now (load will not try it again); if it works the files are IDX files.
  if (wouldDownload(data) && (await downloadOnce('mnist', log)) === undefined) return undefined;
  const pkg = createRequire(import.meta.url)('mnist/package.json') as { version: string };
  return { embedded: `mnist@${pkg.version}` };
}

/**
 * The cache key of a spec's load and normalize output: its data and preprocess sections, the
 * identity of the source files, runner's version and build (and the seed, which splits tables);
 * undefined when the data is not cached.
 */
export async function dataCacheKey(spec: ExperimentSpec, specDir: string, log: ResolveLog): Promise<string | undefined> {
  let source: unknown;
  try {
    source = await sourceIdentity(spec, specDir, log);
  } catch {
    return undefined; // a file that is not there: load reports it
  }
  if (source === undefined) return undefined;
  const parts = { format: CACHE_FORMAT, runner: runnerVersion(), code: codeFingerprint(), data: spec.data, preprocess: spec.preprocess, source, ...(isTable(spec.data) ? { seed: spec.seed } : {}) };
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/**
 * Fingerprint of the code that computes load and normalize (this build's files for them), so a
 * changed build never reads entries an older one wrote, even without a version bump.
 */
function codeFingerprint(): string {
  const h = createHash('sha256');
  // .js when built, .ts when tests run the sources.
  const files = [new URL('stage-cache', import.meta.url), new URL('../stages/load', import.meta.url), new URL('../stages/normalize', import.meta.url)];
  for (const f of files.flatMap((u) => [`${u.href}.js`, `${u.href}.ts`])) h.update(readIf(new URL(f)));
  const data = fileURLToPath(new URL('../data/', import.meta.url));
  const sources = readdirSync(data, { recursive: true, encoding: 'utf8' }).filter((n) => /\.[jt]s$/.test(n)).sort();
  for (const f of sources) h.update(f).update(readFileSync(join(data, f)));
  return h.digest('hex').slice(0, 16);
}

const readIf = (url: URL): Uint8Array => (existsSync(url) ? readFileSync(url) : new Uint8Array(0));

const entryDir = (key: string) => join(cacheDir(), 'stages', key);

type ArrayRef = { offset: number; length: number; type: 'u8' | 'f32' };
interface SplitMeta { count: number; size: number; x: ArrayRef; lut?: ArrayRef; perFeature?: boolean; y: ArrayRef }
interface Meta {
  format: number; bytes: number; sha256: string;
  splits: Record<'train' | 'val' | 'test', SplitMeta>;
  shapes: Omit<Prepared, 'train' | 'val' | 'test'>;
  data: unknown; warnings: string[];
}

/** Writes an entry (a blob of the typed arrays and a meta.json with its sha256), into place by one rename. */
export function writeDataCache(key: string, hit: DataCacheHit): void {
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
    if ('values' in x) return { count: s.count, size: x.size, x: add(x.values), y: add(s.y) };
    return { count: s.count, size: x.size, x: add(x.bytes), lut: add(x.lut), perFeature: x.perFeature, y: add(s.y) };
  };
  const { train, val, test, ...shapes } = hit.prepared;
  const splits = { train: split(train), val: split(val), test: split(test) };
  const blob = Buffer.concat(parts);
  const meta: Meta = { format: CACHE_FORMAT, bytes: blob.length, sha256: createHash('sha256').update(blob).digest('hex'), splits, shapes, data: hit.data, warnings: [...hit.warnings] };
  const final = entryDir(key);
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
export function readDataCache(key: string, damaged: (why: string) => void): DataCacheHit | undefined {
  const dir = entryDir(key);
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
      return { x, y: view(m.y) as Float32Array, count: m.count };
    };
    const prepared: Prepared = { ...meta.shapes, train: split(meta.splits.train), val: split(meta.splits.val), test: split(meta.splits.test) };
    return { prepared, data: meta.data, warnings: meta.warnings };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    damaged(`stage cache entry ${dir} is damaged (${(err as Error).message}); rebuilding it`);
    return undefined;
  }
}
