import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { sizeOf } from '../data/features.js';
import { resolveDataset } from '../data/images/resolve.js';
import { checkTable } from '../data/tables/plan.js';
import { splitTable } from '../data/tables/split.js';
import type { RawSplit } from '../data/images/types.js';
import { RunnerError } from '../core/errors.js';
import { formatPath } from '../spec/overrides.js';
import { isTable, type ImageDataSpec, type TableDataSpec } from '../spec/types.js';
import type { Stage, StageContext } from './stage.js';
import type { ImageLoad, LoadOutput, TableLoad } from '../data/prepared.js';

/** Finds and reads the dataset or table, applies the limits and holds out the test and validation splits. */
export const load: Stage<LoadOutput, Record<string, never>> = {
  name: 'load',
  needs: [],
  async run(_inputs, ctx: StageContext) {
    return isTable(ctx.spec.data) ? loadTable(ctx.spec.data, ctx) : loadImages(ctx.spec.data, ctx);
  },
};

/** A table: checked as `runner validate` checks it, then split with the seed. */
function loadTable(data: TableDataSpec, ctx: StageContext): TableLoad {
  const check = checkTable(ctx.spec, ctx.specDir);
  const problems = [...check.keyProblems.map((p) => `${formatPath(p.path)}: ${p.message}`), ...check.valueProblems];
  if (problems.length || !check.plan) throw new RunnerError(`${check.tables.train.file} does not fit the spec's data section (${problems.length} problems)`, 2, problems);
  const { train, test } = check.tables;
  const splits = splitTable(check.tables, check.plan, data, ctx.seed);
  const files = [train, ...(test ? [test] : [])].map((t) => ({ name: basename(t.file), sha256: t.sha256 }));
  const counts = { train: splits.train.cells.length, validation: splits.val.cells.length, test: splits.test.cells.length };
  const fingerprint = {
    dataset: basename(train.file),
    format: data.format,
    source: 'path',
    location: train.file,
    files,
    available: { rows: train.rows.length + (test?.rows.length ?? 0) },
    dropped: splits.dropped,
    counts,
    columns: { features: check.plan.features, target: check.plan.target, task: check.plan.task },
    sha256: createHash('sha256').update(JSON.stringify({ files, counts, seed: ctx.seed, split: [data.testSplit, data.validationSplit, data.trainLimit, data.testLimit, data.missing] })).digest('hex'),
  };
  if (splits.dropped.train + splits.dropped.test > 0) {
    ctx.log.info(`dropped ${splits.dropped.train + splits.dropped.test} rows with missing values (data.missing: ${data.missing})`);
  }
  ctx.annotate('data', fingerprint);
  ctx.log.info({ data: fingerprint }, 'data loaded');
  return { kind: 'table', train: splits.train, val: splits.val, test: splits.test, plan: check.plan };
}

/** An image dataset: the limits, then the validation split (the last examples, as Keras does). */
async function loadImages(data: ImageDataSpec, ctx: StageContext): Promise<ImageLoad> {
  const ds = await resolveDataset(data, ctx.specDir, { warn: (m) => ctx.log.warn(m), info: (m) => ctx.log.info(m) });
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
