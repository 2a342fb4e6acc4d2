import { SpecValueError } from '../../spec/locate.js';
import { kindOf, type ExperimentSpec, type PreprocessStep } from '../../spec/types.js';
import { firstNonFinite, sizeOf, type Features } from '../features.js';
import type { ImageLoad, Prepared, Split } from '../prepared.js';
import { applyFittedStep, identityTable, widenTable } from './byte-table.js';
import type { RawSplit } from './types.js';

/** The preprocessing so far: the byte-to-float table (one per feature once a step needs it), the shape and the labels' encoding. */
interface Working { lut: Float32Array; perFeature: boolean; shape: number[]; oneHot: boolean; numClasses: number }

/** Image bytes through a lookup table that every step updates. */
export function prepareImages(data: ImageLoad, spec: ExperimentSpec): Prepared {
  const splits = [data.train, data.val, data.test];
  const w: Working = { ...identityTable(), shape: [...data.exampleShape], oneHot: false, numClasses: data.numClasses };
  const fitted: Record<string, unknown>[] = [];
  spec.preprocess.forEach((step, i) => fitted.push({ [kindOf(step)]: applyStep(step, i, w, splits) }));
  const record = { steps: fitted, inputShape: w.shape, classNames: data.classNames };
  const size = sizeOf(data.exampleShape);
  const make = (s: RawSplit): Split => ({
    x: { bytes: s.images, size, lut: w.lut, perFeature: w.perFeature } satisfies Features,
    y: w.oneHot ? oneHot(s, w.numClasses) : new Float32Array(s.labels),
    count: s.count,
  });
  return {
    train: make(data.train), val: make(data.val), test: make(data.test),
    inputShape: w.shape,
    targetShape: w.oneHot ? [w.numClasses] : [1],
    numClasses: w.numClasses,
    classNames: data.classNames,
    oneHot: w.oneHot,
    task: 'classification',
    fitted: record,
  };
}

/** Applies one step to the table; returns what it fitted or used, for preprocess.json. */
function applyStep(step: PreprocessStep, index: number, w: Working, splits: RawSplit[]): Record<string, unknown> {
  const size = sizeOf(w.shape);
  const fitted = (kind: string, values: Record<string, unknown>) => {
    applyFittedStep(w, kind, values, size);
    const bad = firstNonFinite(w.lut);
    // wasm's fused dense+relu turns NaN into 0, so such inputs would train to chance accuracy with a finite loss.
    if (bad >= 0) {
      const where = w.perFeature ? `pixel value ${bad % 256} of feature ${Math.floor(bad / 256)}` : `pixel value ${bad}`;
      throw new SpecValueError(['preprocess', index, kind], `${where} becomes ${w.lut[bad]} in float32 with ${JSON.stringify(values)}; the model would train on it. Choose values that keep the inputs finite`);
    }
    return values;
  };
  if ('scale' in step) return fitted('scale', { divisor: step.scale.divisor, offset: step.scale.offset });
  if ('standardize' in step) return fitted('standardize', standardize({ ...step.standardize, per: step.standardize.per ?? 'global' }, w, splits[0]!));
  if ('minMax' in step) return fitted('minMax', minMax(step.minMax, w, splits[0]!));
  if ('flatten' in step) {
    w.shape = [sizeOf(w.shape)];
    return { shape: w.shape };
  }
  if ('reshape' in step) {
    const target = step.reshape.targetShape;
    if (sizeOf(w.shape) !== sizeOf(target)) {
      throw new SpecValueError(['preprocess', index, 'reshape', 'targetShape'], `cannot reshape examples of shape [${w.shape}] (${sizeOf(w.shape)} values) to [${target}] (${sizeOf(target)} values)`);
    }
    w.shape = [...target];
    return { shape: w.shape };
  }
  if (!('oneHot' in step)) throw new SpecValueError(['preprocess', index], `${Object.keys(step)[0]} prepares text, not images`);
  const n = step.oneHot.numClasses ?? w.numClasses;
  const maxLabel = Math.max(0, ...splits.map((s) => s.labels.reduce((m, v) => Math.max(m, v), 0)));
  if (maxLabel >= n) throw new SpecValueError(['preprocess', index, 'oneHot', 'numClasses'], `numClasses is ${n} but the labels go up to ${maxLabel}`);
  w.oneHot = true;
  w.numClasses = n;
  return { numClasses: n };
}

/** Mean and std of the current values over the training split, from byte histograms (float64 sums); the table is widened first when per feature. */
function standardize(opts: { per: 'global' | 'feature'; mean?: number; std?: number; epsilon: number }, w: Working, train: RawSplit): Record<string, unknown> {
  const size = train.count ? train.images.length / train.count : 1;
  if (opts.per === 'feature') widenTable(w, size);
  // Histograms at the table's granularity: one per feature once the table is per feature.
  const tables = w.perFeature ? size : 1;
  const counts = new Float64Array(tables * 256);
  for (let j = 0; j < train.images.length; j++) counts[(tables === 1 ? 0 : (j % size) * 256) + train.images[j]!]!++;
  const moments = (tablesOfGroup: number[]) => {
    let n = 0;
    let sum = 0;
    let sq = 0;
    for (const t of tablesOfGroup) {
      for (let b = 0; b < 256; b++) {
        const c = counts[t * 256 + b]!;
        const v = w.lut[t * 256 + b]!;
        n += c;
        sum += c * v;
        sq += c * v * v;
      }
    }
    return { mean: n ? sum / n : 0, std: Math.sqrt(Math.max(0, n ? sq / n - (sum / n) ** 2 : 0)) };
  };
  const groups = opts.per === 'global' ? [moments(Array.from({ length: tables }, (_, t) => t))] : Array.from({ length: size }, (_, k) => moments([k]));
  const means = groups.map((g) => opts.mean ?? g.mean);
  const stds = groups.map((g) => opts.std ?? g.std);
  return opts.per === 'global' ? { per: 'global', mean: means[0], std: stds[0], epsilon: opts.epsilon } : { per: 'feature', mean: means, std: stds, epsilon: opts.epsilon };
}

/** The smallest and largest current value in the training split, for one linear map of all pixels to [min, max]. */
function minMax(opts: { min: number; max: number }, w: Working, train: RawSplit): Record<string, unknown> {
  const size = train.count ? train.images.length / train.count : 1;
  let lo = Infinity;
  let hi = -Infinity;
  for (let j = 0; j < train.images.length; j++) {
    const v = w.lut[(w.perFeature ? (j % size) * 256 : 0) + train.images[j]!]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { dataMin: lo, dataMax: hi, min: opts.min, max: opts.max };
}

function oneHot(split: RawSplit, n: number): Float32Array {
  const y = new Float32Array(split.count * n);
  for (let i = 0; i < split.count; i++) y[i * n + split.labels[i]!] = 1;
  return y;
}
