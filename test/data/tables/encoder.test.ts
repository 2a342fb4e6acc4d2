import { describe, expect, it } from 'vitest';
import { encodeFeatures, encodeTargets, fitEncoder } from '../../../src/data/tables/encoder.js';
import type { DataLog } from '../../../src/data/kind.js';
import type { TableLoad } from '../../../src/data/prepared.js';
import type { TablePlan } from '../../../src/data/tables/plan.js';
import { prepareTable } from '../../../src/data/tables/prepare.js';
import { splitTable } from '../../../src/data/tables/split.js';
import { DEFAULT_NA, type Cell, type Table } from '../../../src/data/tables/table.js';
import type { ExperimentSpec, PreprocessStep, TableDataSpec } from '../../../src/spec/types.js';

const plan = (task: TablePlan['task'] = 'classification'): TablePlan => ({
  features: [{ name: 'size', kind: 'numeric' }, { name: 'colour', kind: 'categorical' }],
  target: 'label',
  task,
  classNames: ['cat', 'dog'],
  na: new Set(DEFAULT_NA),
});
const rows = (cells: Cell[][]) => ({ cells, where: cells.map((_, i) => `line ${i + 2}`) });

describe('fitEncoder / encodeFeatures', () => {
  const train = rows([[1, 'red', 'cat'], [3, 'blue', 'dog'], [null, 'red', 'dog'], [8, null, 'cat']]);
  const steps: PreprocessStep[] = [{ oneHot: { columns: ['colour'] } }, { standardize: { epsilon: 0 } }, { oneHot: {} }];

  it('fills gaps with the training mean and mode, one-hot encodes with the training vocabulary, standardizes with training statistics', () => {
    const enc = fitEncoder(plan(), train, steps, true);
    expect(enc.inputs).toEqual(['size', 'colour=blue', 'colour=red']);
    expect(enc.features[0]!.fill).toBe(4);
    expect(enc.features[1]!.fill).toBe('red');
    // Sizes after filling: 1, 3, 4, 8 -> mean 4, population std sqrt(6.5).
    const std = Math.sqrt(6.5);
    expect(enc.steps[0]!.stats).toEqual({ mean: [4], std: [std], epsilon: 0 });
    const { values } = encodeFeatures(enc, train);
    expect(Array.from(values)).toEqual([(1 - 4) / std, 0, 1, (3 - 4) / std, 1, 0, 0, 0, 1, (8 - 4) / std, 0, 1].map(Math.fround));
  });

  it('applies the training statistics to other rows, and encodes a value training never saw as all zeros', () => {
    const enc = fitEncoder(plan(), train, steps, true);
    const { values, unseen } = encodeFeatures(enc, rows([[4, 'green', 'cat']]));
    expect(Array.from(values)).toEqual([0, 0, 0]);
    expect(unseen).toEqual({ colour: 1 });
  });

  it('refuses a missing value when the run did not fill them', () => {
    const enc = fitEncoder(plan(), rows([[1, 'red', 'cat']]), steps, false);
    expect(() => encodeFeatures(enc, rows([[null, 'red', 'cat']]))).toThrow("line 2: column 'size' is missing");
  });

  it('scales to [min, max] with the training range', () => {
    const enc = fitEncoder(plan(), rows([[2, 'red', 'cat'], [6, 'red', 'dog']]), [{ oneHot: { columns: ['colour'] } }, { minMax: { min: -1, max: 1 } }], false);
    expect(Array.from(encodeFeatures(enc, rows([[2, 'red', 'x'], [4, 'red', 'x'], [10, 'red', 'x']])).values.filter((_, i) => i % 2 === 0))).toEqual([-1, 0, 3]);
  });

  it('encodes targets as one-hot classes, class indices, or numbers for regression', () => {
    const t = rows([[1, 'red', 'dog'], [2, 'red', 'cat']]);
    expect(Array.from(encodeTargets(fitEncoder(plan(), t, steps, false), t))).toEqual([0, 1, 1, 0]);
    expect(Array.from(encodeTargets(fitEncoder(plan(), t, [], false), t))).toEqual([1, 0]);
    const r = rows([[1, 'red', '21.5'], [2, 'red', 30]]);
    expect(Array.from(encodeTargets(fitEncoder(plan('regression'), r, [], false), r))).toEqual([21.5, 30]);
  });
});

describe('splitTable', () => {
  const table: Table = {
    file: 't.csv', format: 'csv', sha256: '', columns: ['size', 'colour', 'label'],
    rows: Array.from({ length: 50 }, (_, i) => [String(i), i % 7 === 0 ? 'NA' : 'red', i % 2 ? 'dog' : 'cat']),
    lines: Array.from({ length: 50 }, (_, i) => i + 2),
  };
  const data = (over: Partial<TableDataSpec> = {}): TableDataSpec => ({ format: 'csv', path: 't.csv', target: 'label', task: 'classification', missing: 'drop', testSplit: 0.2, validationSplit: 0.25, ...over });
  const sizes = (r: { cells: readonly (readonly Cell[])[] }) => r.cells.map((c) => Number(c[0]));

  it('drops rows with a missing value, then holds out test and validation rows from a seeded shuffle', () => {
    const s = splitTable({ train: table }, plan(), data(), 1);
    expect(s.dropped.train).toBe(8);
    expect([s.train.cells.length, s.val.cells.length, s.test.cells.length]).toEqual([25, 9, 8]);
    const all = [...sizes(s.train), ...sizes(s.val), ...sizes(s.test)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 50 }, (_, i) => i).filter((i) => i % 7 !== 0));
    expect(sizes(s.test)).not.toEqual([...sizes(s.test)].sort((a, b) => a - b));
  });

  it('splits the same way for the same seed and differently for another', () => {
    const a = splitTable({ train: table }, plan(), data(), 1);
    expect(splitTable({ train: table }, plan(), data(), 1)).toEqual(a);
    expect(sizes(splitTable({ train: table }, plan(), data(), 2).test)).not.toEqual(sizes(a.test));
  });

  it('keeps rows with gaps under fill, and takes the test rows from a test table when given', () => {
    const s = splitTable({ train: table, test: table }, plan(), data({ missing: 'fill', testSplit: undefined, validationSplit: 0 }), 1);
    expect(s.train.cells.length).toBe(50);
    expect(sizes(s.test)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('prepareTable: inputs the model cannot train on', () => {
  const spec = (preprocess: PreprocessStep[]) => ({ data: { format: 'csv', path: 'pets.csv', testPath: 'pets-test.csv', target: 'label', missing: 'error' }, preprocess }) as unknown as ExperimentSpec;
  const load = (train: Cell[][], test: Cell[][] = [[2, 'red', 'cat']], task: TablePlan['task'] = 'classification'): TableLoad =>
    ({ kind: 'table', train: rows(train), val: rows([[2, 'red', 'dog']]), test: rows(test), plan: plan(task) });
  const quiet = { warn: () => {}, info: () => {} } as unknown as DataLog;
  const steps: PreprocessStep[] = [{ oneHot: { columns: ['colour'] } }, { standardize: { epsilon: 0 } }, { oneHot: {} }];

  it('stops at the file and line of a value the training scaling takes beyond float32 (on wasm it would train to chance with a finite loss)', () => {
    // Training sizes span 1e-30: minMax multiplies by 2e30, and the test's size of 1e10 leaves float32.
    expect(() => prepareTable(load([[0, 'red', 'cat'], [1e-30, 'blue', 'dog']], [[0, 'red', 'cat'], [1e10, 'red', 'dog']]), spec([{ oneHot: { columns: ['colour'] } }, { minMax: { min: -1, max: 1 } }, { oneHot: {} }]), quiet))
      .toThrow("test split, pets-test.csv line 3: input 'size' is Infinity after preprocessing");
  });

  it('stops at a standardize with epsilon 0 over a column that never changes, and at a target beyond float32', () => {
    expect(() => prepareTable(load([[4, 'red', 'cat'], [4, 'blue', 'dog']]), spec(steps), quiet)).toThrow(/^training split, pets.csv line 2: input 'size' is NaN after preprocessing/);
    expect(() => prepareTable(load([[1, 'red', 2.5], [3, 'blue', 1e40]], [[2, 'red', 1]], 'regression'), spec([{ oneHot: { columns: ['colour'] } }]), quiet))
      .toThrow('training split, pets.csv line 3: the target is NaN after preprocessing');
  });
});
