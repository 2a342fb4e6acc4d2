import { createHash } from 'node:crypto';
import { sizeOf } from '../data/features.js';
import { resolveDataset } from '../data/resolve.js';
import type { RawSplit } from '../data/types.js';
import type { Stage, StageContext } from '../pipeline/stage.js';
import type { LoadOutput } from './types.js';

/** Finds and reads the dataset, applies the limits and holds out the validation split (the last examples, as Keras does). */
export const load: Stage<LoadOutput, Record<string, never>> = {
  name: 'load',
  needs: [],
  async run(_inputs, ctx: StageContext) {
    const { data } = ctx.spec;
    const ds = await resolveDataset(data, ctx.specDir, { warn: (m) => ctx.log.warn(m), info: (m) => ctx.log.info(m) });
    const size = sizeOf(ds.exampleShape);
    const train = take(ds.train, data.trainLimit, size);
    const test = take(ds.test, data.testLimit, size);
    const nVal = Math.round(train.count * data.validationSplit);
    const nTrain = train.count - nVal;
    if (nTrain < 1) throw new Error(`no training examples left: ${train.count} examples, validationSplit ${data.validationSplit}`);
    const out: LoadOutput = {
      train: range(train, 0, nTrain, size),
      val: range(train, nTrain, train.count, size),
      test,
      exampleShape: ds.exampleShape,
      numClasses: ds.numClasses,
      classNames: ds.classNames,
    };
    const fingerprint = {
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
    ctx.annotate('data', fingerprint);
    ctx.log.info({ data: fingerprint }, 'data loaded');
    return out;
  },
};

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
