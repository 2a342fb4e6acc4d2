import { createRequire } from 'node:module';
import type { DataSpec, ImageDataSpec } from '../../spec/types.js';
import type { DataKind } from '../kind.js';
import { loadImages } from './load.js';
import { prepareImages } from './prepare.js';

/** Image datasets: MNIST, Fashion-MNIST and IDX files, as bytes through a preprocessing table. */
export const images: DataKind<ImageDataSpec> = {
  owns: (data: DataSpec): data is ImageDataSpec => data.format === undefined,

  // A named dataset's class count is checked by the spec rules; IDX files are read only by load.
  check() {},

  prefetch({ spec, specDir, session }) {
    session.images.prefetch(spec.data as ImageDataSpec, specDir);
  },

  async cacheSource({ spec, specDir, session }, log) {
    const data = spec.data as ImageDataSpec;
    // IDX files on disk are not cached again: runner's decompressed-IDX cache, read on other threads
    // while TensorFlow.js loads, reaches fit sooner than a stage-cache entry of the same 55 MB (measured
    // in npm run bench), and normalize over bytes only builds a 256-entry table.
    if (session.images.locate(data, specDir) || data.dataset !== 'mnist' || !data.allowEmbedded) return undefined;
    // Not on disk: the download is tried now, once for the run (load will not try it again); if it works the files are IDX files.
    if (session.images.wouldDownload(data) && (await session.images.downloadOnce('mnist', log)) === undefined) return undefined;
    const pkg = createRequire(import.meta.url)('mnist/package.json') as { version: string };
    return { embedded: `mnist@${pkg.version}` };
  },

  load(at, log) {
    return loadImages(at.spec.data as ImageDataSpec, at, log);
  },

  prepare(loaded, spec) {
    if (loaded.kind !== 'images') throw new Error(`images cannot prepare ${loaded.kind} data`);
    return prepareImages(loaded, spec);
  },
};
