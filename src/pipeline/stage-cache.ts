import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataLog, DataPlace } from '../data/kind.js';
import { dataKind } from '../data/kinds.js';
import type { Prepared } from '../data/prepared.js';
import { runnerVersion } from '../runs/environment.js';
import type { RunRecord } from '../runs/record.js';
import { writeFitted } from '../stages/normalize.js';
import type { StageContext } from '../stages/stage.js';
import { CACHE_FORMAT, readCacheEntry, writeCacheEntry } from './cache-entry.js';
import type { ExecuteHooks } from './execute.js';

/**
 * The cache key of a spec's load and normalize output: its data and preprocess sections, what
 * identifies the source files (the data kind says), runner's version and build; undefined when
 * the data is not cached.
 */
async function stageCacheKey(at: DataPlace, log: DataLog): Promise<string | undefined> {
  let source: unknown;
  try {
    source = await dataKind(at.spec.data).cacheSource(at, log);
  } catch {
    return undefined; // a file that is not there: load reports it
  }
  if (source === undefined) return undefined;
  const parts = { format: CACHE_FORMAT, runner: runnerVersion(), code: codeFingerprint(), data: at.spec.data, preprocess: at.spec.preprocess, source };
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/**
 * The stage cache around load and normalize: their outputs from an entry for the same data and
 * preprocessing (recorded as `cached` in run.json), or, after they ran, a new entry. `warnings`
 * collects what the run warns; those from here on are load's and normalize's, kept with the entry.
 * With noCache nothing is read or written, and run.json says no stage was cached.
 */
export async function stageCacheHooks(ctx: StageContext, record: Readonly<RunRecord>, warnings: readonly string[], noCache = false): Promise<ExecuteHooks> {
  const log = { warn: (m: string) => ctx.log.warn(m), info: (m: string) => ctx.log.info(m) };
  const { cacheDir } = ctx.data;
  const key = noCache ? undefined : await stageCacheKey({ spec: ctx.spec, specDir: ctx.specDir, session: ctx.data }, log);
  const hit = key ? readCacheEntry(cacheDir, key, (why) => ctx.log.warn(why)) : undefined;
  // The download tried and the damaged entry reported above are this run's alone.
  const from = warnings.length;
  ctx.annotate('cached', hit ? ['load', 'normalize'] : []);
  if (hit) {
    ctx.annotate('data', hit.data);
    writeFitted(ctx.runDir, hit.prepared.fitted);
    for (const w of hit.warnings) ctx.log.warn(w);
    ctx.log.info({ key }, 'load and normalize from the stage cache');
    return { preset: new Map<string, unknown>([['load', undefined], ['normalize', hit.prepared]]) };
  }
  if (!key) return {};
  return {
    onDone: (stage, output) => {
      if (stage !== 'normalize') return;
      try {
        writeCacheEntry(cacheDir, key, { prepared: output as Prepared, data: record.data, warnings: warnings.slice(from) });
      } catch (err) {
        ctx.log.warn(`could not write the stage cache: ${(err as Error).message}`);
      }
    },
  };
}

/**
 * Fingerprint of the code that computes load and normalize (this build's files for them), so a
 * changed build never reads entries an older one wrote, even without a version bump.
 */
function codeFingerprint(): string {
  const h = createHash('sha256');
  // .js when built, .ts when tests run the sources.
  const files = ['stage-cache', 'cache-entry', '../stages/load', '../stages/normalize'].map((f) => new URL(f, import.meta.url));
  for (const f of files.flatMap((u) => [`${u.href}.js`, `${u.href}.ts`])) h.update(readIf(new URL(f)));
  const data = fileURLToPath(new URL('../data/', import.meta.url));
  const sources = readdirSync(data, { recursive: true, encoding: 'utf8' }).filter((n) => /\.[jt]s$/.test(n)).sort();
  for (const f of sources) h.update(f).update(readFileSync(join(data, f)));
  return h.digest('hex').slice(0, 16);
}

const readIf = (url: URL): Uint8Array => (existsSync(url) ? readFileSync(url) : new Uint8Array(0));

