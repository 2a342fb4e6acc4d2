import { isTable, type ExperimentSpec } from '../../spec/types.js';
import type { Features } from '../features.js';
import type { DataLog } from '../kind.js';
import type { Prepared, Split, TableLoad } from '../prepared.js';
import { encodeFeatures, encodeTargets, fitEncoder } from './encoder.js';
import type { TableRows } from './split.js';

/** Table rows to float inputs through an encoder fitted on the training rows; the encoder goes to preprocess.json for predict. */
export function prepareTable(data: TableLoad, spec: ExperimentSpec, log: DataLog): Prepared {
  const fill = isTable(spec.data) && spec.data.missing === 'fill';
  const enc = fitEncoder(data.plan, data.train, spec.preprocess, fill);
  const size = enc.inputs.length;
  const make = (rows: TableRows, split: string): Split => {
    const { values, unseen } = encodeFeatures(enc, rows);
    for (const [column, n] of Object.entries(unseen)) log.warn(`${split} split: ${n} value(s) of column '${column}' never occur in the training split; they encode as all zeros`);
    return { x: { values, size } satisfies Features, y: encodeTargets(enc, rows), count: rows.cells.length };
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
