import { kindOf, type PreprocessStep } from '../../spec/types.js';
import { isMissing, labelOf, notANumber, numberOf, type Cell } from './table.js';
import type { TablePlan } from './plan.js';
import type { TableRows } from './split.js';

/** One input column as fitted on the training split: its one-hot vocabulary and the value that fills its gaps. */
export interface EncodedColumn {
  readonly name: string;
  readonly kind: 'numeric' | 'categorical';
  /** Categorical: the values seen in the training split, sorted; one model input each. */
  readonly vocabulary?: readonly string[];
  /** With data.missing fill: the training split's mean (numeric) or most frequent value (categorical). */
  readonly fill?: number | string;
}

/** A fitted scaling step: value * factor + shift on each listed model input, with the statistics it came from. */
export interface FittedScaling {
  readonly step: 'scale' | 'standardize' | 'minMax';
  readonly columns: readonly string[];
  readonly inputs: readonly number[];
  readonly factor: readonly number[];
  readonly shift: readonly number[];
  readonly stats: Record<string, unknown>;
}

/**
 * Everything needed to turn rows of a table into the model's inputs and targets, fitted on the
 * training split only; stored in preprocess.json so that predict applies exactly the same.
 */
export interface TableEncoder {
  readonly features: readonly EncodedColumn[];
  /** Names of the model's inputs, in order: a numeric column's name, or `column=value` for an indicator. */
  readonly inputs: readonly string[];
  readonly steps: readonly FittedScaling[];
  readonly target: string;
  readonly task: 'classification' | 'regression';
  readonly classNames: readonly string[];
  readonly oneHotLabels: boolean;
  readonly na: readonly string[];
}

/** Fits the encoder on the training rows: fill values, vocabularies, then each scaling step in order. */
export function fitEncoder(plan: TablePlan, train: TableRows, preprocess: readonly PreprocessStep[], fillMissing: boolean): TableEncoder {
  const features = plan.features.map((f, j): EncodedColumn => {
    const present = train.cells.map((r) => r[j]!).filter((c) => !isMissing(c, plan.na));
    const vocabulary = f.kind === 'categorical' ? [...new Set(present.map(labelOf))].sort() : undefined;
    const fill = fillMissing ? (f.kind === 'numeric' ? mean(present.map((c) => numberOf(c)!)) : mode(present.map(labelOf))) : undefined;
    return { ...f, ...(vocabulary ? { vocabulary } : {}), ...(fill !== undefined ? { fill } : {}) };
  });
  const inputs = features.flatMap((f) => (f.vocabulary ? f.vocabulary.map((v) => `${f.name}=${v}`) : [f.name]));
  const base: TableEncoder = {
    features, inputs, steps: [], target: plan.target, task: plan.task, classNames: plan.classNames,
    oneHotLabels: preprocess.some((s) => 'oneHot' in s && !s.oneHot.columns), na: [...plan.na],
  };
  const values = encodeFeatures(base, train).values;
  const steps: FittedScaling[] = [];
  for (const step of preprocess) {
    const kind = kindOf(step);
    if (kind !== 'scale' && kind !== 'standardize' && kind !== 'minMax') continue;
    const fitted = fitScaling(step, base, values, train.cells.length);
    applyScaling(fitted, values, inputs.length);
    steps.push(fitted);
  }
  return { ...base, steps };
}

/** Model inputs for rows (features in the encoder's order): gaps filled, categories one-hot, scaling applied. */
export function encodeFeatures(enc: TableEncoder, rows: TableRows): { values: Float32Array; unseen: Record<string, number> } {
  const size = enc.inputs.length;
  const values = new Float32Array(rows.cells.length * size);
  const unseen: Record<string, number> = {};
  const na = new Set(enc.na);
  rows.cells.forEach((row, i) => {
    let k = i * size;
    enc.features.forEach((f, j) => {
      let cell: Cell = row[j] ?? null;
      if (isMissing(cell, na)) {
        if (f.fill === undefined) throw new Error(`${rows.where[i]}: column '${f.name}' is missing, and the run has no value to fill it with (it was trained without data.missing: fill)`);
        cell = f.fill;
      }
      if (f.vocabulary) {
        const at = f.vocabulary.indexOf(labelOf(cell));
        // A value the training split never had encodes as all zeros, as Keras's handle_unknown='ignore'.
        if (at >= 0) values[k + at] = 1;
        else unseen[f.name] = (unseen[f.name] ?? 0) + 1;
        k += f.vocabulary.length;
      } else {
        const v = numberOf(cell);
        if (v === undefined) throw new Error(`${rows.where[i]}, column '${f.name}': ${notANumber(cell)}`);
        values[k++] = v;
      }
    });
  });
  for (const s of enc.steps) applyScaling(s, values, size);
  return { values, unseen };
}

/** Targets: class index (or one-hot vector) for classification, the number for regression. */
export function encodeTargets(enc: TableEncoder, rows: TableRows): Float32Array {
  const t = enc.features.length;
  if (enc.task === 'regression') return Float32Array.from(rows.cells, (r) => numberOf(r[t]!)!);
  const n = enc.classNames.length;
  const y = new Float32Array(rows.cells.length * (enc.oneHotLabels ? n : 1));
  rows.cells.forEach((r, i) => {
    const c = enc.classNames.indexOf(labelOf(r[t]!));
    if (enc.oneHotLabels) y[i * n + c] = 1;
    else y[i] = c;
  });
  return y;
}

function fitScaling(step: PreprocessStep, enc: TableEncoder, values: Float32Array, count: number): FittedScaling {
  const kind = kindOf(step) as FittedScaling['step'];
  const opts = (step as Record<string, { columns?: string[] }>)[kind]!;
  const columns = opts.columns ?? enc.features.filter((f) => f.kind === 'numeric').map((f) => f.name);
  const inputs = columns.map((c) => enc.inputs.indexOf(c));
  const size = enc.inputs.length;
  const column = (k: number) => Array.from({ length: count }, (_, i) => values[i * size + k]!);
  if ('scale' in step) {
    const { divisor, offset } = step.scale;
    return { step: kind, columns, inputs, factor: inputs.map(() => 1 / divisor), shift: inputs.map(() => offset), stats: { divisor, offset } };
  }
  if ('standardize' in step) {
    const { epsilon } = step.standardize;
    const means = inputs.map((k) => step.standardize.mean ?? mean(column(k)));
    const stds = inputs.map((k, i) => step.standardize.std ?? Math.sqrt(mean(column(k).map((v) => (v - means[i]!) ** 2))));
    return { step: kind, columns, inputs, factor: stds.map((s) => 1 / (s + epsilon)), shift: means.map((m, i) => -m / (stds[i]! + epsilon)), stats: { mean: means, std: stds, epsilon } };
  }
  const { min, max } = (step as { minMax: { min: number; max: number } }).minMax;
  const lo = inputs.map((k) => Math.min(...column(k)));
  const hi = inputs.map((k) => Math.max(...column(k)));
  // A constant column maps to min rather than dividing by zero.
  const factor = lo.map((l, i) => (hi[i]! > l ? (max - min) / (hi[i]! - l) : 0));
  return { step: kind, columns, inputs, factor, shift: lo.map((l, i) => min - l * factor[i]!), stats: { dataMin: lo, dataMax: hi, min, max } };
}

function applyScaling(s: FittedScaling, values: Float32Array, size: number): void {
  for (let i = 0; i < values.length; i += size) {
    s.inputs.forEach((k, j) => (values[i + k] = values[i + k]! * s.factor[j]! + s.shift[j]!));
  }
}

function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

/** The most frequent value; ties go to the first in sorted order, so the choice does not depend on row order. */
function mode(xs: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
}
