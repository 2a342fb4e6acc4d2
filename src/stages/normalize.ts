import type { RawSplit } from '../data/types.js';
import { RUN_FILES } from '../pipeline/run-dir.js';
import { kindOf, type PreprocessStep } from '../pipeline/spec.js';
import type { Stage, StageContext } from '../pipeline/stage.js';
import type { LoadOutput, Prepared, Split } from './types.js';

interface Working { x: Float32Array[]; shape: number[]; oneHot: boolean; numClasses: number }

/** Applies the preprocess steps in order; statistics (standardize) are fitted on the training split only. */
export const normalize: Stage<Prepared, { load: LoadOutput }> = {
  name: 'normalize',
  needs: ['load'],
  async run({ load: data }, ctx: StageContext) {
    const splits = [data.train, data.val, data.test];
    const w: Working = { x: splits.map((s) => Float32Array.from(s.images)), shape: [...data.exampleShape], oneHot: false, numClasses: data.numClasses };
    const fitted: Record<string, unknown>[] = [];
    ctx.spec.preprocess.forEach((step, i) => fitted.push({ [kindOf(step)]: applyStep(step, i, w, splits) }));
    ctx.runDir.writeJson(RUN_FILES.preprocess, { steps: fitted, inputShape: w.shape, classNames: data.classNames });
    const targets = splits.map((s) => (w.oneHot ? oneHot(s, w.numClasses) : Float32Array.from(s.labels)));
    const make = (i: number): Split => ({ x: w.x[i]!, y: targets[i]!, count: splits[i]!.count });
    return {
      train: make(0), val: make(1), test: make(2),
      inputShape: w.shape,
      targetShape: w.oneHot ? [w.numClasses] : [1],
      numClasses: w.numClasses,
      classNames: data.classNames,
      oneHot: w.oneHot,
    };
  },
};

/** Applies one step in place; returns what it fitted or used, for preprocess.json. */
function applyStep(step: PreprocessStep, index: number, w: Working, splits: RawSplit[]): Record<string, unknown> {
  if ('scale' in step) {
    const { divisor, offset } = step.scale;
    for (const x of w.x) for (let j = 0; j < x.length; j++) x[j] = x[j]! / divisor + offset;
    return { divisor, offset };
  }
  if ('standardize' in step) return standardize(step.standardize, w);
  if ('flatten' in step) {
    w.shape = [w.shape.reduce((a, b) => a * b, 1)];
    return { shape: w.shape };
  }
  if ('reshape' in step) {
    const target = step.reshape.targetShape;
    const from = w.shape.reduce((a, b) => a * b, 1);
    const to = target.reduce((a, b) => a * b, 1);
    if (from !== to) throw new Error(`preprocess[${index}].reshape: cannot reshape examples of shape [${w.shape}] (${from} values) to [${target}] (${to} values)`);
    w.shape = [...target];
    return { shape: w.shape };
  }
  const n = step.oneHot.numClasses ?? w.numClasses;
  const maxLabel = Math.max(0, ...splits.map((s) => s.labels.reduce((m, v) => Math.max(m, v), 0)));
  if (maxLabel >= n) throw new Error(`preprocess[${index}].oneHot: numClasses is ${n} but the labels go up to ${maxLabel}`);
  w.oneHot = true;
  w.numClasses = n;
  return { numClasses: n };
}

function standardize(opts: { per: 'global' | 'feature'; mean?: number; std?: number; epsilon: number }, w: Working): Record<string, unknown> {
  const train = w.x[0]!;
  const size = w.shape.reduce((a, b) => a * b, 1);
  const count = train.length / size;
  const groups = opts.per === 'global' ? 1 : size;
  const mean = new Float64Array(groups);
  const sq = new Float64Array(groups);
  // Float64 accumulators: a float32 sum over 47 million pixels would lose digits.
  for (let j = 0; j < train.length; j++) {
    const g = groups === 1 ? 0 : j % size;
    mean[g] = mean[g]! + train[j]!;
    sq[g] = sq[g]! + train[j]! * train[j]!;
  }
  const n = groups === 1 ? train.length : count;
  const means = Array.from(mean, (m) => opts.mean ?? m / n);
  const stds = Array.from(sq, (s, g) => opts.std ?? Math.sqrt(Math.max(0, s / n - (mean[g]! / n) ** 2)));
  for (const x of w.x) {
    for (let j = 0; j < x.length; j++) {
      const g = groups === 1 ? 0 : j % size;
      x[j] = (x[j]! - means[g]!) / (stds[g]! + opts.epsilon);
    }
  }
  return groups === 1 ? { per: 'global', mean: means[0], std: stds[0], epsilon: opts.epsilon } : { per: 'feature', mean: means, std: stds, epsilon: opts.epsilon };
}

function oneHot(split: RawSplit, n: number): Float32Array {
  const y = new Float32Array(split.count * n);
  for (let i = 0; i < split.count; i++) y[i * n + split.labels[i]!] = 1;
  return y;
}
