import { createHash } from 'node:crypto';
import type { ImageDataSpec } from '../../spec/types.js';
import { sizeOf } from '../features.js';
import type { DataLog, DataPlace } from '../kind.js';
import type { DataFingerprint, ImageLoad } from '../prepared.js';
import type { RawSplit } from './types.js';

/** An image dataset: the limits, then the validation split (the last examples, as Keras does). */
export async function loadImages(data: ImageDataSpec, { specDir, session }: DataPlace, log: DataLog): Promise<{ output: ImageLoad; fingerprint: DataFingerprint }> {
  const ds = await session.images.resolve(data, specDir, log);
  const size = sizeOf(ds.exampleShape);
  const train = take(ds.train, data.trainLimit, size);
  const test = take(ds.test, data.testLimit, size);
  const nVal = Math.round(train.count * data.validationSplit);
  const nTrain = train.count - nVal;
  if (nTrain < 1) throw new Error(`no training examples left: ${train.count} examples, validationSplit ${data.validationSplit}`);
  const out: ImageLoad = {
    kind: 'images',
    train: range(train, 0, nTrain, size),
    val: range(train, nTrain, train.count, size),
    test,
    exampleShape: ds.exampleShape,
    numClasses: ds.numClasses,
    classNames: ds.classNames,
  };
  const fingerprint: DataFingerprint = {
    dataset: ds.name,
    source: ds.source.kind,
    location: ds.source.location,
    embedded: ds.source.kind === 'embedded',
    ...(ds.source.note ? { note: ds.source.note } : {}),
    files: ds.source.files,
    available: { train: ds.train.count, test: ds.test.count },
    counts: { train: nTrain, validation: nVal, test: test.count },
    exampleShape: ds.exampleShape,
    sha256: digest(ds.source.files.map((f) => f.sha256), [out.train, out.val, out.test], [data.trainLimit, data.testLimit, nVal]),
  };
  return { output: out, fingerprint };
}

function take(split: RawSplit, limit: number | undefined, size: number): RawSplit {
  return limit === undefined || limit >= split.count ? split : range(split, 0, limit, size);
}

function range(split: RawSplit, from: number, to: number, size: number): RawSplit {
  return { images: split.images.subarray(from * size, to * size), labels: split.labels.subarray(from, to), count: to - from };
}

/**
 * Fingerprint of exactly the examples used, in order: the source files' sha256 with the slices
 * taken from them (limits, validation split), or, for data without files, the examples' bytes.
 * Hashing 55 MB of Fashion-MNIST again at every start would cost a tenth of a second.
 */
function digest(fileHashes: string[], splits: RawSplit[], slicing: (number | undefined)[]): string {
  const h = createHash('sha256');
  if (fileHashes.length) {
    h.update(JSON.stringify({ files: fileHashes, slicing, counts: splits.map((s) => s.count) }));
  } else {
    for (const s of splits) h.update(s.images).update(s.labels);
  }
  return h.digest('hex');
}
