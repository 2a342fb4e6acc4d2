import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/files.js';
import type { ImageDataSpec } from '../../spec/types.js';
import type { IdxArray } from './idx.js';
import { hash, type IdxFile, type IdxReader } from './idx-file.js';
import type { DataSource, RawDataset } from './types.js';

export type Role = 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels';
export const ROLES: readonly Role[] = ['trainImages', 'trainLabels', 'testImages', 'testLabels'];
export const STANDARD_NAMES: Record<Role, string> = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

export interface Published { readonly baseUrl: string; readonly algo: 'sha256' | 'md5'; readonly checksums: readonly string[]; readonly classNames: string[] }

/** Download locations and the checksums their publishers give for the .gz files, in ROLES order. */
export const PUBLISHED: Record<'mnist' | 'fashion-mnist', Published> = {
  mnist: {
    baseUrl: 'https://storage.googleapis.com/cvdf-datasets/mnist/',
    algo: 'sha256',
    checksums: [
      '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609', '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
      '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6', 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
    ],
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  },
  // Fashion-MNIST publishes MD5 sums only.
  'fashion-mnist': {
    baseUrl: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
    algo: 'md5',
    checksums: ['8d4fb7e6c68d591d4c3dfef9ec88bf0d', '25c81989df183df01b3e8a0aad5dffbe', 'bef4ecab320f06d8554ea6380940ec79', 'bb300cfdad3c16e7a12a480ee83cd310'],
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  },
};

/** Folders where Debian packages install datasets (dataset-fashion-mnist). */
export const SYSTEM_DIRS: Record<string, string> = {
  mnist: '/usr/share/datasets/mnist',
  'fashion-mnist': '/usr/share/datasets/fashion-mnist',
};

/** The IDX rank of a file: images are [count, height, width], labels [count]. */
export const rankOf = (r: Role): number => (r.endsWith('Images') ? 3 : 1);

/** What the resolver tells the run log: warnings such as the embedded fallback. */
export interface ResolveLog { warn(msg: string): void; info(msg: string): void }

/** The IDX files a dataset spec names directly (data.files or data.path), checked; throws a DataError when they are not there. */
export function namedFiles(data: ImageDataSpec, specDir: string): { files: Record<Role, string>; kind: DataSource['kind'] } | undefined {
  if (data.files) {
    const files = Object.fromEntries(ROLES.map((r) => [r, resolve(specDir, data.files![r])])) as Record<Role, string>;
    for (const r of ROLES) if (!existsSync(files[r])) throw new DataError(`data.files.${r}: '${files[r]}' does not exist`);
    return { files, kind: 'files' };
  }
  if (data.path) return { files: idxFilesIn(resolve(specDir, data.path), 'data.path'), kind: 'path' };
  return undefined;
}

/** The four IDX files in a folder (.gz or not), when all are there. */
export function findIdxFiles(dir: string): Record<Role, string> | undefined {
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

/** Reads the four IDX files of a dataset and checks they belong together. */
export async function readIdxSet(reader: IdxReader, name: string, files: Record<Role, string>, kind: DataSource['kind'], known?: string[], given?: string[]): Promise<RawDataset> {
  // All four are read at once; a problem is reported for the first file in the usual order, whichever fails first.
  const settled = await Promise.allSettled(ROLES.map((r) => reader.read(files[r], rankOf(r))));
  const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failed) throw failed.reason;
  const read = Object.fromEntries(ROLES.map((r, i) => [r, (settled[i] as PromiseFulfilledResult<IdxFile>).value])) as Record<Role, IdxFile>;
  const [trainImages, trainLabels, testImages, testLabels] = ROLES.map((r) => read[r].idx) as [IdxArray, IdxArray, IdxArray, IdxArray];
  const pairs = [[trainImages, trainLabels, files.trainImages, files.trainLabels], [testImages, testLabels, files.testImages, files.testLabels]] as const;
  for (const [img, lab, imgFile, labFile] of pairs) {
    if (img.dims[0] !== lab.dims[0]) throw new DataError(`${imgFile} holds ${img.dims[0]} images but ${labFile} holds ${lab.dims[0]} labels`);
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

/** Downloads a dataset's four .gz files into `dir`, each checked against its published checksum. */
export async function download(published: Published, dir: string, log: ResolveLog): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const [i, r] of ROLES.entries()) {
    const file = `${STANDARD_NAMES[r]}.gz`;
    const url = published.baseUrl + file;
    log.info(`downloading ${url}`);
    const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    const body = new Uint8Array(await res.arrayBuffer());
    const { algo } = published;
    const hex = published.checksums[i]!;
    const got = hash(algo, body);
    if (got !== hex) throw new Error(`${url}: ${algo} ${got} does not match the published ${hex}`);
    writeFileAtomic(join(dir, file), body);
  }
}
