import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, relative, resolve } from 'node:path';
import { RunnerError } from '../core/errors.js';
import { limitsFrom } from '../core/limits.js';
import { didYouMean } from '../core/suggest.js';
import { DEFAULT_NA, isMissing, labelOf, numberOf, overflows, readTable, type Cell, type TableFormat } from '../data/tables/table.js';
import { planRun } from '../pipeline/plan.js';

export interface InitOptions {
  readonly data?: string;
  readonly target?: string;
  readonly dataset?: string;
  readonly out?: string;
  readonly force?: boolean;
}

/** What init decided about one column, and why (the why goes into the spec as a comment). */
interface Column { readonly name: string; readonly kind: 'numeric' | 'categorical' | 'text' | 'skip'; readonly why: string; readonly missing: number; readonly values: number }

const FORMATS: Record<string, TableFormat> = { '.csv': 'csv', '.json': 'json', '.jsonl': 'jsonl', '.ndjson': 'jsonl' };
/** A string column with at most this many distinct values (or 5% of the rows) is a category. */
const MAX_CATEGORIES = 20;

/** A column's kind from its values: numbers, a few distinct labels, or something a small MLP cannot take (free text, ids, one value). */
function inferColumn(name: string, cells: readonly Cell[]): Column {
  const na = new Set(DEFAULT_NA);
  const present = cells.filter((c) => !isMissing(c, na));
  const missing = cells.length - present.length;
  const distinct = new Set(present.map(labelOf)).size;
  const base = { name, missing, values: distinct };
  if (present.length === 0) return { ...base, kind: 'skip', why: 'no values' };
  if (distinct === 1) return { ...base, kind: 'skip', why: `one value only (${labelOf(present[0]!)})` };
  // A number beyond float32 is still a number: the check of the spec with its data then names its line.
  if (present.every((c) => numberOf(c) !== undefined || overflows(c))) return { ...base, kind: 'numeric', why: 'numbers' };
  if (distinct <= Math.max(MAX_CATEGORIES, Math.round(cells.length * 0.05))) return { ...base, kind: 'categorical', why: `${distinct} distinct values` };
  const words = present.reduce<number>((a, c) => a + labelOf(c).split(/\s+/).length, 0) / present.length;
  return words >= 4 ? { ...base, kind: 'text', why: `free text, ${words.toFixed(0)} words on average` } : { ...base, kind: 'skip', why: `${distinct} distinct labels: an id or a name, not a feature` };
}

const flow = (xs: readonly string[]) => `[${xs.map((x) => (/^[A-Za-z_][\w.-]*$/.test(x) ? x : JSON.stringify(x))).join(', ')}]`;
const key = (x: string) => (/^[A-Za-z_][\w.-]*$/.test(x) ? x : JSON.stringify(x));

/** The commented spec for a table and its target column. */
function tableSpec(file: string, format: TableFormat, target: string, out: string): string {
  const table = readTable(file, format, '--data', limitsFrom());
  const shown = relative(process.cwd(), file) || file;
  if (!table.columns.includes(target)) {
    const hint = didYouMean(target, table.columns);
    throw new RunnerError(`--target ${target}: ${shown} has no such column${hint ? `; did you mean '${hint}'?` : ''}`, 2, [`its columns: ${table.columns.join(', ')}`]);
  }
  const columns = table.columns.map((name, i) => inferColumn(name, table.rows.map((r) => r[i] ?? null)));
  const y = columns.find((c) => c.name === target)!;
  const yCells = table.rows.map((r) => r[table.columns.indexOf(target)] ?? null);
  if (y.values < 2) throw new RunnerError(`--target ${target}: ${shown} holds ${y.values === 0 ? 'no values' : 'one value only'} in that column; nothing to learn`);
  const regression = y.kind === 'numeric' && (y.values > MAX_CATEGORIES || yCells.some((c) => !Number.isInteger(numberOf(c as Cell) ?? 0)));
  const texts = columns.filter((c) => c.name !== target && c.kind === 'text');
  if (texts.length) return textSpec({ file, format, target, out, rows: table.rows.length, columns, texts, classes: y.values, yMissing: y.missing });
  const features = columns.filter((c) => c.name !== target && c.kind !== 'skip');
  if (features.length === 0) throw new RunnerError(`${shown}: no column besides ${target} can be a feature`, 2, columns.filter((c) => c.name !== target).map((c) => `${c.name}: ${c.why}`));
  const numeric = features.filter((c) => c.kind === 'numeric').map((c) => c.name);
  const categorical = features.filter((c) => c.kind === 'categorical').map((c) => c.name);
  const inputs = numeric.length + features.filter((c) => c.kind === 'categorical').reduce((a, c) => a + c.values, 0);
  const hidden = Math.min(128, Math.max(8, 2 ** Math.ceil(Math.log2(inputs * 2))));
  const featureMissing = features.filter((c) => c.missing > 0);
  const missing = y.missing > 0
    ? `drop          # ${y.missing} row(s) lack the target ${target}: rows with a missing value are left out`
    : featureMissing.length ? `fill          # ${featureMissing.map((c) => `${c.name} lacks ${c.missing}`).join(', ')}: the training split's mean (numbers) or most frequent value (categories)` : undefined;
  const name = `${basename(file, extname(file)).replace(/[^A-Za-z0-9._-]+/g, '-')}-${regression ? 'regression' : 'mlp'}`;
  const lines = [
    ...opening({ file, format, out, name, about: `${table.rows.length} rows, ${table.columns.length} columns; ${regression ? 'regression' : `classification into ${y.values} classes`} of ${target}.`, note: 'The column kinds below were inferred from the values: check them, then run it with' }),
    `  target: ${key(target)}`,
    ...(regression ? ['  task: regression'] : []),
    `  features: ${flow(features.map((c) => c.name))}`,
    ...columns.filter((c) => c.name !== target).map((c) => `  #   ${c.name}: ${c.kind === 'skip' ? `left out, ${c.why}` : `${c.kind} (${c.why}${c.missing ? `, ${c.missing} missing` : ''})`}`),
    ...(missing ? [`  missing: ${missing}`] : []),
    '  testSplit: 0.2          # rows held out for the test, after a shuffle seeded by `seed`',
    '  validationSplit: 0.1',
    'preprocess:',
    ...(categorical.length ? [`  - oneHot: { columns: ${flow(categorical)} }   # one indicator per category seen in training`] : []),
    ...(numeric.length ? ['  - standardize: {}      # numeric columns: mean and std of the training split'] : []),
    ...(regression ? [] : ['  - oneHot: {}           # the labels']),
    'model:',
    `  # ${inputs} inputs after preprocessing: one hidden layer of ${hidden} units.`,
    '  layers:',
    `    - dense: { units: ${hidden}, activation: relu }`,
    regression ? '    - dense: { units: 1 }' : `    - dense: { units: ${y.values}, activation: softmax }`,
    'compile:',
    `  loss: ${regression ? 'meanSquaredError' : 'categoricalCrossentropy'}`,
    '  optimizer:',
    '    adam: { learningRate: 0.01 }',
    `  metrics: [${regression ? 'mae' : 'accuracy'}]`,
    'train:',
    '  epochs: 30',
    `  batchSize: ${table.rows.length < 2000 ? 16 : 32}`,
    '  earlyStopping: { monitor: val_loss, patience: 5, restoreBestWeights: true }',
  ];
  return `${lines.join('\n')}\n`;
}

/** A table with free text: a bag-of-words model on its text columns (a text model takes text only; the other columns are named as left out). */
function textSpec(t: { file: string; format: TableFormat; target: string; out: string; rows: number; columns: readonly Column[]; texts: readonly Column[]; classes: number; yMissing: number }): string {
  const shown = relative(process.cwd(), t.file) || t.file;
  if (t.yMissing) throw new RunnerError(`--target ${t.target}: ${t.yMissing} row(s) of ${shown} lack it; a text model needs a label on every row`);
  const name = `${basename(t.file, extname(t.file)).replace(/[^A-Za-z0-9._-]+/g, '-')}-text`;
  return [
    ...opening({ ...t, name, about: `${t.rows} rows; classification of ${t.target} into ${t.classes} classes from free text.`, note: 'A bag of words (tf-idf) into a small dense network; for word order, see experiments/spam-cnn.yaml. Run it with' }),
    `  text: ${flow(t.texts.map((c) => c.name))}`,
    ...t.columns.filter((c) => c.name !== t.target).map((c) => `  #   ${c.name}: ${c.kind === 'text' ? `text (${c.why})` : `left out (${c.kind === 'skip' ? c.why : `${c.kind}`}; a text model reads the text columns only)`}`),
    `  target: ${key(t.target)}`,
    '  testSplit: 0.2',
    '  validationSplit: 0.1',
    'preprocess:',
    '  - tokenize: { split: word, lowercase: true }',
    `  - vocabulary: { maxTokens: 10000, minCount: ${t.rows >= 1000 ? 2 : 1} }`,
    '  - bagOfWords: { mode: tfidf }',
    'model:',
    '  layers:',
    '    - dense: { units: 64, activation: relu }',
    '    - dropout: { rate: 0.3 }',
    `    - dense: { units: ${t.classes}, activation: softmax }`,
    ...classifierTraining('sparseCategoricalCrossentropy   # the labels as class indices', '{ monitor: val_loss, patience: 3, restoreBestWeights: true }'),
  ].join('\n');
}

/** The first lines of a spec for a data file: the schema, where it came from, how to run it, its name and its data's format and path. */
function opening(o: { file: string; format: TableFormat; out: string; name: string; about: string; note: string }): string[] {
  return [
    `# yaml-language-server: $schema=${schemaFor(o.out)}`,
    `# Written by runner init from ${relative(process.cwd(), o.file) || o.file}: ${o.about}`,
    `# ${o.note}`,
    `#   runner run ${relative(process.cwd(), o.out) || o.out}`,
    `name: ${o.name}`,
    'seed: 42',
    'data:',
    `  format: ${o.format}`,
    `  path: ${JSON.stringify(relative(dirname(o.out), o.file))}`,
  ];
}

/** compile and train for a classifier: Adam at 0.001, accuracy, 10 epochs of batch 32 (and early stopping when given). */
function classifierTraining(loss: string, earlyStopping?: string): string[] {
  return ['compile:', `  loss: ${loss}`, '  optimizer:', '    adam: { learningRate: 0.001 }', '  metrics: [accuracy]', 'train:', '  epochs: 10', '  batchSize: 32', ...(earlyStopping ? [`  earlyStopping: ${earlyStopping}`] : []), ''];
}

/** The schema's path from the spec's folder: editors with the YAML language server check the spec as it is typed. */
const schemaFor = (out: string) => relative(dirname(out), new URL('../../schema/experiment.schema.json', import.meta.url).pathname);

/** The seed MLP on an image dataset. */
function datasetSpec(dataset: string, out: string): string {
  if (dataset !== 'mnist' && dataset !== 'fashion-mnist') throw new RunnerError(`--dataset ${dataset}: expected mnist or fashion-mnist`, 2, ['for a table of your own, use --data FILE --target COLUMN']);
  return [
    `# yaml-language-server: $schema=${schemaFor(out)}`,
    `# Written by runner init: the Keras MNIST MLP on ${dataset}.`,
    `name: ${dataset}-mlp`,
    'seed: 42',
    'data:',
    `  dataset: ${dataset}${dataset === 'mnist' ? '          # full MNIST when found or downloadable, else the embedded 10,000 digits' : '  # the Debian package dataset-fashion-mnist, the cache, or a download'}`,
    '  validationSplit: 0.1',
    'preprocess:',
    '  - scale: { divisor: 255 }',
    '  - flatten: {}',
    '  - oneHot: { numClasses: 10 }',
    'model:',
    '  layers:',
    '    - dense: { units: 128, activation: relu }',
    '    - dense: { units: 10, activation: softmax }',
    ...classifierTraining('categoricalCrossentropy'),
  ].join('\n');
}

/**
 * `runner init`: writes a commented spec that runs as it is, for a table (`--data FILE --target
 * COLUMN`: column kinds inferred, missing values handled, a small MLP sized from the data) or an
 * image dataset (`--dataset`). It is validated before it is written, and never replaces a file
 * without `force`. Returns the path written.
 */
export function initCommand(o: InitOptions): string {
  if ((o.data === undefined) === (o.dataset === undefined)) throw new RunnerError('init needs --data FILE --target COLUMN, or --dataset mnist|fashion-mnist (one of the two)');
  let out: string;
  let text: string;
  if (o.data !== undefined) {
    if (!o.target) throw new RunnerError('--data needs --target COLUMN: the column to predict');
    const format = FORMATS[extname(o.data).toLowerCase()];
    if (!format) throw new RunnerError(`--data ${o.data}: expected a table file (.csv, .json, .jsonl), not '${extname(o.data) || 'no extension'}'`);
    out = resolve(o.out ?? `${basename(o.data, extname(o.data))}.yaml`);
    text = existsSync(out) && !o.force ? '' : tableSpec(resolve(o.data), format, o.target, out);
  } else {
    out = resolve(o.out ?? `${o.dataset}-mlp.yaml`);
    text = existsSync(out) && !o.force ? '' : datasetSpec(o.dataset!, out);
  }
  const shown = relative(process.cwd(), out) || out;
  if (!text) throw new RunnerError(`${shown} exists: runner init does not replace a file`, 2, ['give another -o, or --force to replace it']);
  // Checked as runner run checks it (spec and data) before it takes the place of anything.
  const aside = `${out}.init-${process.pid}.yaml`;
  writeFileSync(aside, text);
  try {
    planRun(aside);
    renameSync(aside, out);
  } catch (err) {
    if (!(err instanceof RunnerError)) throw err;
    const named = (t: string) => t.replaceAll(aside, shown);
    throw new RunnerError(`${shown} not written: ${named(err.message)}`, err.exitCode, err.details.map(named));
  } finally {
    rmSync(aside, { force: true });
  }
  return out;
}
