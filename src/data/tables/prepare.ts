import { isTable, type ExperimentSpec } from '../../spec/types.js';
import { firstNonFinite, type Features } from '../features.js';
import type { DataLog } from '../kind.js';
import type { Prepared, Split, TableLoad } from '../prepared.js';
import { encodeFeatures, encodeTargets, fitEncoder } from './encoder.js';
import type { TableRows } from './split.js';

/** Table rows to float inputs through an encoder fitted on the training rows; the encoder goes to preprocess.json for predict. */
export function prepareTable(data: TableLoad, spec: ExperimentSpec, log: DataLog): Prepared {
  const fill = isTable(spec.data) && spec.data.missing === 'fill';
  const enc = fitEncoder(data.plan, data.train, spec.preprocess, fill);
  const size = enc.inputs.length;
  const file = (split: string) => (isTable(spec.data) ? (split === 'test' && spec.data.testPath) || spec.data.path : 'the table');
  const make = (rows: TableRows, split: string): Split => {
    const { values, unseen } = encodeFeatures(enc, rows);
    for (const [column, n] of Object.entries(unseen)) log.warn(`${split} split: ${n} value(s) of column '${column}' never occur in the training split; they encode as all zeros`);
    const y = encodeTargets(enc, rows);
    // wasm's fused dense+relu turns NaN into 0, so such inputs would train with a finite loss: stop here, at the row.
    const notFinite = (what: string, row: number, value: number) =>
      new Error(`${split} split, ${file(split)} ${rows.where[row] ?? `row ${row + 1}`}: ${what} is ${value} after preprocessing (a number beyond float32's range, or a standardize with epsilon 0 over a column that never changes); the model would train on it. Fix the value or the preprocess step`);
    const bad = firstNonFinite(values);
    if (bad >= 0) throw notFinite(`input '${enc.inputs[bad % size]}'`, Math.floor(bad / size), values[bad]!);
    const badY = firstNonFinite(y);
    if (badY >= 0) throw notFinite('the target', Math.floor(badY / (y.length / rows.cells.length)), y[badY]!);
    return { x: { values, size } satisfies Features, y, count: rows.cells.length };
  };
  const record = { table: enc, inputShape: [size], classNames: enc.classNames };
  const classification = enc.task === 'classification';
  return {
    train: make(data.train, 'training'), val: make(data.val, 'validation'), test: make(data.test, 'test'),
    inputShape: [size],
    targetShape: enc.oneHotLabels ? [enc.classNames.length] : [1],
    numClasses: classification ? enc.classNames.length : 0,
    classNames: enc.classNames,
    oneHot: enc.oneHotLabels,
    task: enc.task,
    fitted: record,
  };
}
