import { extname } from 'node:path';
import { RunnerError } from '../../core/errors.js';
import type { InputOptions, PredictInputs } from '../predict-inputs.js';
import { encodeFeatures, type TableEncoder } from './encoder.js';
import { labelOf, readTable, rowWhere, type Table, type TableFormat } from './table.js';

const TABLE_EXTENSIONS: Record<string, TableFormat> = { '.csv': 'csv', '.json': 'json', '.jsonl': 'jsonl' };

/** Table rows to the model's inputs through the run's fitted encoder; columns are matched by name. */
export function tableInputs(files: readonly string[], enc: TableEncoder, opts: InputOptions): PredictInputs {
  const cells: (string | number | boolean | null)[][] = [];
  const where: string[] = [];
  const actual: (string | undefined)[] = [];
  for (const file of files) {
    const format = TABLE_EXTENSIONS[extname(file).toLowerCase()];
    if (!format) throw new RunnerError(`${file}: this run's model takes table rows with the columns ${enc.features.map((f) => f.name).join(', ')}; give a .csv, .json or .jsonl file`);
    const t: Table = readTable(file, format, 'input', opts.limits);
    const missing = enc.features.filter((f) => !t.columns.includes(f.name)).map((f) => f.name);
    if (missing.length) throw new RunnerError(`${file} lacks column${missing.length === 1 ? '' : 's'} ${missing.map((m) => `'${m}'`).join(', ')}, which the model takes`, 2, [`the model's columns: ${enc.features.map((f) => f.name).join(', ')}`]);
    const idx = enc.features.map((f) => t.columns.indexOf(f.name));
    const target = t.columns.indexOf(enc.target);
    t.rows.forEach((r, i) => {
      cells.push(idx.map((j) => r[j]!));
      where.push(`${file} ${rowWhere(t, i)}`);
      actual.push(target >= 0 && r[target] !== null ? labelOf(r[target]!) : undefined);
    });
  }
  let encoded;
  try {
    encoded = encodeFeatures(enc, { cells, where });
  } catch (err) {
    throw new RunnerError((err as Error).message);
  }
  for (const [column, n] of Object.entries(encoded.unseen)) opts.warn?.(`${n} row(s) have a value of '${column}' the training rows never had (${enc.features.find((f) => f.name === column)?.vocabulary?.join(', ')} were seen); it counts as none of them`);
  return { x: { values: encoded.values, size: enc.inputs.length }, names: where, actual };
}
