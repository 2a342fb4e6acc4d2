import seedrandom from 'seedrandom';
import type { TableDataSpec } from '../../spec/types.js';
import { shuffleInPlace } from '../../core/random.js';
import { isMissing, rowWhere, type Cell, type Table } from './table.js';
import type { TablePlan } from './plan.js';

/** Rows of a table reduced to the plan's columns (features in order, then the target), with where each came from. */
export interface TableRows {
  readonly cells: readonly (readonly Cell[])[];
  readonly where: readonly string[];
}

/** The three splits of a table, and how many rows were left out for missing values. */
export interface TableSplits {
  readonly train: TableRows;
  readonly val: TableRows;
  readonly test: TableRows;
  readonly dropped: { readonly train: number; readonly test: number };
}

/** The plan's columns of every usable row: rows with a missing value go under drop, rows without a target under fill. */
function usableRows(t: Table, plan: TablePlan, missing: TableDataSpec['missing']): { rows: TableRows; dropped: number } {
  const indices = [...plan.features.map((f) => f.name), plan.target].map((c) => t.columns.indexOf(c));
  const target = indices.length - 1;
  const cells: Cell[][] = [];
  const where: string[] = [];
  t.rows.forEach((row, i) => {
    const picked = indices.map((j) => row[j]!);
    const gaps = picked.map((c) => isMissing(c, plan.na));
    if (gaps[target] || (missing === 'drop' && gaps.some(Boolean))) return;
    cells.push(picked);
    where.push(rowWhere(t, i));
  });
  return { rows: { cells, where }, dropped: t.rows.length - cells.length };
}

const pick = (r: TableRows, idx: readonly number[]): TableRows => ({ cells: idx.map((i) => r.cells[i]!), where: idx.map((i) => r.where[i]!) });
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/**
 * Train, validation and test rows. The rows are shuffled with the seed before anything is held
 * out: tables are often sorted (penguins by species), and Keras's "last rows" would then validate
 * on one class only. Test rows come from testPath, or are the first testSplit of the shuffle.
 */
export function splitTable(tables: { train: Table; test?: Table }, plan: TablePlan, data: TableDataSpec, seed: number): TableSplits {
  const main = usableRows(tables.train, plan, data.missing);
  const rng = seedrandom.alea(`${seed}:split`);
  const order = range(0, main.rows.cells.length);
  shuffleInPlace(order, rng);
  let trainIdx = order;
  let test: TableRows;
  let droppedTest = 0;
  if (tables.test) {
    const t = usableRows(tables.test, plan, data.missing);
    test = t.rows;
    droppedTest = t.dropped;
  } else {
    const nTest = Math.round(order.length * (data.testSplit ?? 0.2));
    test = pick(main.rows, order.slice(0, nTest));
    trainIdx = order.slice(nTest);
  }
  if (data.testLimit !== undefined) test = pick(test, range(0, Math.min(data.testLimit, test.cells.length)));
  if (data.trainLimit !== undefined) trainIdx = trainIdx.slice(0, data.trainLimit);
  const nVal = Math.round(trainIdx.length * data.validationSplit);
  const nTrain = trainIdx.length - nVal;
  if (nTrain < 1) throw new Error(`no training rows left: ${main.rows.cells.length} usable rows in ${tables.train.file}, testSplit ${data.testSplit ?? 0}, validationSplit ${data.validationSplit}`);
  return {
    train: pick(main.rows, trainIdx.slice(0, nTrain)),
    val: pick(main.rows, trainIdx.slice(nTrain)),
    test,
    dropped: { train: main.dropped, test: droppedTest },
  };
}
