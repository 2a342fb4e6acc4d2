import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/files.js';
import type { ImageDataSpec } from '../../spec/types.js';
import { loadEmbeddedMnist } from './embedded.js';
import type { IdxArray } from './idx.js';
import { hash, prefetchIdxFiles, readIdxFileAsync, type IdxFile } from './idx-file.js';
import type { DataSource, RawDataset } from './types.js';

type Role = 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels';
const ROLES: readonly Role[] = ['trainImages', 'trainLabels', 'testImages', 'testLabels'];
const STANDARD_NAMES: Record<Role, string> = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

interface Published { readonly baseUrl: string; readonly checksums: Record<Role, { algo: 'sha256' | 'md5'; hex: string }>; readonly classNames: string[] }

/** Download locations and the checksums their publishers give for the .gz files. */
const PUBLISHED: Record<'mnist' | 'fashion-mnist', Published> = {
  mnist: {
    baseUrl: 'https://storage.googleapis.com/cvdf-datasets/mnist/',
    checksums: {
      trainImages: { algo: 'sha256', hex: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609' },
      trainLabels: { algo: 'sha256', hex: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c' },
      testImages: { algo: 'sha256', hex: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6' },
      testLabels: { algo: 'sha256', hex: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6' },
    },
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  },
  // Fashion-MNIST publishes MD5 sums only.
  'fashion-mnist': {
    baseUrl: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
    checksums: {
      trainImages: { algo: 'md5', hex: '8d4fb7e6c68d591d4c3dfef9ec88bf0d' },
      trainLabels: { algo: 'md5', hex: '25c81989df183df01b3e8a0aad5dffbe' },
      testImages: { algo: 'md5', hex: 'bef4ecab320f06d8554ea6380940ec79' },
      testLabels: { algo: 'md5', hex: 'bb300cfdad3c16e7a12a480ee83cd310' },
    },
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  },
};

/** Folders where Debian packages install datasets (dataset-fashion-mnist). */
const SYSTEM_DIRS: Record<string, string> = {
  mnist: '/usr/share/datasets/mnist',
  'fashion-mnist': '/usr/share/datasets/fashion-mnist',
};

/** Where downloaded datasets are kept: $RUNNER_CACHE, else the user's cache folder. */
export function cacheDir(): string {
  const base = process.env['RUNNER_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'runner');
  return resolve(base);
}

/** What the resolver tells the run log: warnings such as the embedded fallback. */
export interface ResolveLog { warn(msg: string): void; info(msg: string): void }

/** The IDX files a dataset spec names directly (data.files or data.path), checked; throws a DataError when they are not there. */
function namedFiles(data: ImageDataSpec, specDir: string): { files: Record<Role, string>; kind: DataSource['kind'] } | undefined {
  if (data.files) {
    const files = Object.fromEntries(ROLES.map((r) => [r, resolve(specDir, data.files![r])])) as Record<Role, string>;
    for (const r of ROLES) if (!existsSync(files[r])) throw new DataError(`data.files.${r}: '${files[r]}' does not exist`);
    return { files, kind: 'files' };
  }
  if (data.path) return { files: idxFilesIn(resolve(specDir, data.path), 'data.path'), kind: 'path' };
  return undefined;
}

/** Folders searched for a named dataset, in order. */
const searchDirs = (name: 'mnist' | 'fashion-mnist') => [['cache', join(cacheDir(), 'datasets', name)], ['system', SYSTEM_DIRS[name]!]] as const;

/** The IDX files the dataset would be read from, if they are already on disk (nothing is read). */
export function locateIdxFiles(data: ImageDataSpec, specDir: string): { files: Record<Role, string>; kind: DataSource['kind'] } | undefined {
  try {
    const named = namedFiles(data, specDir);
    if (named || data.dataset === 'idx') return named;
  } catch {
    return undefined;
  }
  for (const [kind, dir] of searchDirs(data.dataset)) {
    const files = findIdxFiles(dir);
    if (files) return { files, kind };
  }
  return undefined;
}

/** Downloads tried in this process: undefined when it worked, else why it failed. */
const downloads = new Map<string, Promise<string | undefined>>();

/**
 * Downloads a named dataset into the cache, at most once per process (the stage cache asks before
 * load does); resolves to undefined on success or to the reason it failed, warned once.
 */
export function downloadOnce(name: 'mnist' | 'fashion-mnist', log: ResolveLog): Promise<string | undefined> {
  let attempt = downloads.get(name);
  if (!attempt) {
    attempt = download(PUBLISHED[name], join(cacheDir(), 'datasets', name), log).then(() => undefined, (err: unknown) => {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.cause ? `${e.message}: ${e.cause.code ?? e.cause.message}` : e.message;
      log.warn(`could not download ${name}: ${why}`);
      return why;
    });
    downloads.set(name, attempt);
  }
  return attempt;
}

/** Whether resolveDataset would try a download for a dataset not on disk. */
export const wouldDownload = (data: ImageDataSpec): boolean => data.dataset !== 'idx' && data.download && process.env['RUNNER_OFFLINE'] !== '1';

/** Starts reading the dataset's IDX files in the background, while the rest of the program starts. */
export function prefetchDataset(data: ImageDataSpec, specDir: string): void {
  const located = locateIdxFiles(data, specDir);
  if (located) prefetchIdxFiles(ROLES.map((r) => ({ path: located.files[r], rank: r.endsWith('Images') ? 3 : 1 })), cacheDir());
}

/** Finds a dataset: data.files or data.path, the cache, system packages, a verified download, then (mnist) the embedded digits. */
export async function resolveDataset(data: ImageDataSpec, specDir: string, log: ResolveLog): Promise<RawDataset> {
  const named = namedFiles(data, specDir);
  const known = data.dataset === 'idx' ? undefined : PUBLISHED[data.dataset].classNames;
  if (named) return readIdxSet(data.dataset, named.files, named.kind, known, data.classNames);
  if (data.dataset === 'idx') throw new DataError("dataset 'idx' needs data.files or data.path");
  const name = data.dataset;
  const published = PUBLISHED[name];
  const tried: string[] = [];
  for (const [kind, dir] of searchDirs(name)) {
    const files = findIdxFiles(dir);
    if (files) return readIdxSet(name, files, kind, published.classNames, data.classNames);
    tried.push(`${kind}: ${dir}`);
  }
  if (wouldDownload(data)) {
    const failed = await downloadOnce(name, log);
    if (failed === undefined) return readIdxSet(name, findIdxFiles(join(cacheDir(), 'datasets', name))!, 'download', published.classNames, data.classNames);
    tried.push(`download: ${published.baseUrl} (${failed})`);
  }
  if (name === 'mnist' && data.allowEmbedded) {
    const ds = loadEmbeddedMnist();
    log.warn(`full MNIST not found; using the ${ds.source.note}. Put the IDX files in ${join(cacheDir(), 'datasets', 'mnist')} for full MNIST.`);
    return ds;
  }
  throw new DataError(`dataset '${name}' was not found`, [...tried.map((t) => `looked in ${t}`), `set data.path to a folder with the four IDX files`]);
}

function findIdxFiles(dir: string): Record<Role, string> | undefined {
  const found: Partial<Record<Role, string>> = {};
  for (const r of ROLES) {
    const hit = [STANDARD_NAMES[r], `${STANDARD_NAMES[r]}.gz`].map((f) => join(dir, f)).find((p) => existsSync(p));
    if (!hit) return undefined;
    found[r] = hit;
  }
  return found as Record<Role, string>;
}

function idxFilesIn(dir: string, key: string): Record<Role, string> {
  const files = findIdxFiles(dir);
  if (!files) {
    const missing = ROLES.filter((r) => ![STANDARD_NAMES[r], `${STANDARD_NAMES[r]}.gz`].some((f) => existsSync(join(dir, f))));
    throw new DataError(`${key} '${dir}' does not hold the IDX files`, [`missing: ${missing.map((r) => STANDARD_NAMES[r]).join(', ')} (.gz or not)`]);
  }
  return files;
}

async function readIdxSet(name: string, files: Record<Role, string>, kind: DataSource['kind'], known?: string[], given?: string[]): Promise<RawDataset> {
  // All four are read at once; a problem is reported for the first file in the usual order, whichever fails first.
  const settled = await Promise.allSettled(ROLES.map((r) => readIdxFileAsync(files[r], r.endsWith('Images') ? 3 : 1, cacheDir())));
  const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failed) throw failed.reason;
  const read = Object.fromEntries(ROLES.map((r, i) => [r, (settled[i] as PromiseFulfilledResult<IdxFile>).value])) as Record<Role, IdxFile>;
  const [trainImages, trainLabels, testImages, testLabels] = ROLES.map((r) => read[r].idx) as [IdxArray, IdxArray, IdxArray, IdxArray];
  for (const [img, lab] of [[trainImages, trainLabels], [testImages, testLabels]] as const) {
    if (img.dims[0] !== lab.dims[0]) throw new DataError(`${files.trainImages}: ${img.dims[0]} images but ${lab.dims[0]} labels`);
  }
  if (trainImages.dims[1] !== testImages.dims[1] || trainImages.dims[2] !== testImages.dims[2]) {
    throw new DataError(`train images are ${trainImages.dims.slice(1).join('x')} but test images are ${testImages.dims.slice(1).join('x')}`);
  }
  let maxLabel = 0;
  for (const labels of [trainLabels.data, testLabels.data]) for (const l of labels) if (l > maxLabel) maxLabel = l;
  const numClasses = given?.length ?? known?.length ?? maxLabel + 1;
  if (maxLabel >= numClasses) throw new DataError(`labels go up to ${maxLabel} but data.classNames names ${numClasses} classes`);
  return {
    name,
    train: { images: trainImages.data, labels: trainLabels.data, count: trainImages.dims[0]! },
    test: { images: testImages.data, labels: testLabels.data, count: testImages.dims[0]! },
    exampleShape: trainImages.dims.slice(1),
    numClasses,
    classNames: given ?? known ?? Array.from({ length: numClasses }, (_, i) => String(i)),
    source: {
      kind,
      location: resolve(files.trainImages, '..'),
      files: ROLES.map((r) => ({ name: files[r], sha256: read[r].sha256 })),
    },
  };
}

async function download(published: Published, dir: string, log: ResolveLog): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const r of ROLES) {
    const file = `${STANDARD_NAMES[r]}.gz`;
    const url = published.baseUrl + file;
    log.info(`downloading ${url}`);
    const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    const body = new Uint8Array(await res.arrayBuffer());
    const { algo, hex } = published.checksums[r];
    const got = hash(algo, body);
    if (got !== hex) throw new Error(`${url}: ${algo} ${got} does not match the published ${hex}`);
    writeFileAtomic(join(dir, file), body);
  }
}
