import { join } from 'node:path';
import { DataError } from '../../core/errors.js';
import { limitsFrom, type Limits } from '../../core/limits.js';
import type { ImageDataSpec } from '../../spec/types.js';
import { loadEmbeddedMnist } from './embedded.js';
import { IdxReader } from './idx-file.js';
import { download, findIdxFiles, namedFiles, PUBLISHED, rankOf, readIdxSet, ROLES, SYSTEM_DIRS, type ResolveLog, type Role } from './published.js';
import type { DataSource, RawDataset } from './types.js';

/**
 * Where a run's image datasets come from, and its reads of them: data.files or data.path, the
 * cache, system packages, a verified download (tried once per run), then (mnist) the embedded
 * digits. One per run: the download attempts and IDX reads started ahead are its own.
 */
export class Datasets {
  /** Downloads tried by this run: undefined when it worked, else why it failed. */
  private readonly downloads = new Map<string, Promise<string | undefined>>();
  readonly idx: IdxReader;

  constructor(readonly cacheDir: string, readonly offline: boolean, limits: Limits = limitsFrom()) {
    this.idx = new IdxReader(cacheDir, limits);
  }

  /** Folders searched for a named dataset, in order. */
  private searchDirs(name: 'mnist' | 'fashion-mnist') {
    return [['cache', join(this.cacheDir, 'datasets', name)], ['system', SYSTEM_DIRS[name]!]] as const;
  }

  /** The IDX files the dataset would be read from, if they are already on disk (nothing is read). */
  locate(data: ImageDataSpec, specDir: string): { files: Record<Role, string>; kind: DataSource['kind'] } | undefined {
    try {
      const named = namedFiles(data, specDir);
      if (named || data.dataset === 'idx') return named;
    } catch {
      return undefined;
    }
    for (const [kind, dir] of this.searchDirs(data.dataset)) {
      const files = findIdxFiles(dir);
      if (files) return { files, kind };
    }
    return undefined;
  }

  /** Whether resolve would try a download for a dataset not on disk. */
  wouldDownload(data: ImageDataSpec): boolean {
    return data.dataset !== 'idx' && data.download && !this.offline;
  }

  /**
   * Downloads a named dataset into the cache, at most once per run (the stage cache asks before
   * load does); resolves to undefined on success or to the reason it failed, warned once.
   */
  downloadOnce(name: 'mnist' | 'fashion-mnist', log: ResolveLog): Promise<string | undefined> {
    let attempt = this.downloads.get(name);
    if (!attempt) {
      attempt = download(PUBLISHED[name], join(this.cacheDir, 'datasets', name), log).then(() => undefined, (err: unknown) => {
        const e = err as Error & { cause?: { code?: string; message?: string } };
        const why = e.cause ? `${e.message}: ${e.cause.code ?? e.cause.message}` : e.message;
        log.warn(`could not download ${name}: ${why}`);
        return why;
      });
      this.downloads.set(name, attempt);
    }
    return attempt;
  }

  /** Starts reading the dataset's IDX files in the background, while the rest of the program starts. */
  prefetch(data: ImageDataSpec, specDir: string): void {
    const located = this.locate(data, specDir);
    if (located) this.idx.prefetch(ROLES.map((r) => ({ path: located.files[r], rank: rankOf(r) })));
  }

  /** Finds and reads the dataset (see the class comment for the order); a DataError lists where it looked. */
  async resolve(data: ImageDataSpec, specDir: string, log: ResolveLog): Promise<RawDataset> {
    const named = namedFiles(data, specDir);
    const known = data.dataset === 'idx' ? undefined : PUBLISHED[data.dataset].classNames;
    if (named) return readIdxSet(this.idx, data.dataset, named.files, named.kind, known, data.classNames);
    if (data.dataset === 'idx') throw new DataError("dataset 'idx' needs data.files or data.path");
    const name = data.dataset;
    const published = PUBLISHED[name];
    const tried: string[] = [];
    for (const [kind, dir] of this.searchDirs(name)) {
      const files = findIdxFiles(dir);
      if (files) return readIdxSet(this.idx, name, files, kind, published.classNames, data.classNames);
      tried.push(`${kind}: ${dir}`);
    }
    if (this.wouldDownload(data)) {
      const failed = await this.downloadOnce(name, log);
      if (failed === undefined) return readIdxSet(this.idx, name, findIdxFiles(join(this.cacheDir, 'datasets', name))!, 'download', published.classNames, data.classNames);
      tried.push(`download: ${published.baseUrl} (${failed})`);
    }
    if (name === 'mnist' && data.allowEmbedded) {
      const ds = loadEmbeddedMnist();
      log.warn(`full MNIST not found; using the ${ds.source.note}. Put the IDX files in ${join(this.cacheDir, 'datasets', 'mnist')} for full MNIST.`);
      return ds;
    }
    throw new DataError(`dataset '${name}' was not found`, [...tried.map((t) => `looked in ${t}`), `set data.path to a folder with the four IDX files`]);
  }
}
