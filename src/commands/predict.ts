import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import type { BackendChoice } from '../backend/select.js';
import { replayTable } from '../data/images/byte-table.js';
import { sizeOf, type Features } from '../data/features.js';
import { encodeFeatures, type TableEncoder } from '../data/tables/encoder.js';
import { labelOf, readTable, rowWhere, type Table } from '../data/tables/table.js';
import { RunnerError } from '../core/errors.js';
import { readRun, resolveRunArgs, type RunView } from '../runs/reader.js';
import { RUN_FILES } from '../runs/run-dir.js';
import { idxExamples, pngExample, type ImageExample } from '../data/images/image-input.js';
import { loadBackend } from '../pipeline/run.js';

/** What `runner predict` takes: the run, the input files, and how to show and read them. */
export interface PredictOptions {
  readonly run: string;
  readonly inputs: readonly string[];
  readonly runsDir?: string;
  readonly top?: number;
  readonly invert?: boolean;
  readonly backend?: BackendChoice;
  readonly warn?: (msg: string) => void;
}

/** One input's prediction: the class and the top-k scores, or the value for a regression. */
export interface Prediction {
  readonly input: string;
  readonly class?: string;
  readonly value?: number;
  readonly top?: readonly { class: string; probability: number }[];
  /** The target's value when the input rows have it. */
  readonly actual?: string;
}

/** preprocess.json of an image run: the steps with what they fitted, the model's input shape, the class names. */
interface ImagePreprocess { readonly steps: readonly Record<string, Record<string, unknown>>[]; readonly inputShape: readonly number[]; readonly classNames: readonly string[] }

const IMAGE_EXTENSIONS = ['.png'];
const TABLE_EXTENSIONS: Record<string, 'csv' | 'json'> = { '.csv': 'csv', '.json': 'json' };

/**
 * `runner predict`: applies a run's model, with the preprocessing it was trained with, to new
 * inputs: PNG or IDX images for an image run, CSV or JSON rows for a table run.
 */
export async function predictCommand(opts: PredictOptions): Promise<Prediction[]> {
  const [dir] = resolveRunArgs([opts.run], opts.runsDir);
  const run = readRun(dir!);
  if (!existsSync(join(run.dir, RUN_FILES.modelJson))) throw new RunnerError(`${run.id} has no trained model (status: ${run.status})`, 2, run.status === 'interrupted' ? ['finish it with runner resume'] : []);
  const pre = JSON.parse(readFileSync(join(run.dir, RUN_FILES.preprocess), 'utf8')) as ImagePreprocess & { table?: TableEncoder };
  for (const input of opts.inputs) if (!existsSync(input)) throw new RunnerError(`input '${input}' does not exist`);
  // Inputs first: one the model cannot take is reported before TensorFlow.js and the model load.
  const { x, names, actual } = pre.table ? tableInputs(pre.table, opts) : imageInputs(run, pre, opts);
  await loadBackend(opts.backend ?? run.record.backend.used ?? 'auto');
  const [{ loadModel }, { predictRows }] = await Promise.all([import('../model/io.js'), import('../train/batches.js')]);
  const model = await loadModel(join(run.dir, RUN_FILES.model));
  try {
    const outputs = predictRows(model, x, names.length, pre.inputShape);
    const k = outputs.length / Math.max(1, names.length);
    return names.map((input, i) => {
      const row = outputs.subarray(i * k, (i + 1) * k);
      const truth = actual?.[i] !== undefined ? { actual: actual[i] } : {};
      if (pre.table?.task === 'regression') return { input, value: row[0]!, ...truth };
      const ranked = [...row].map((p, c) => ({ class: pre.classNames[c] ?? String(c), probability: p })).sort((a, b) => b.probability - a.probability);
      return { input, class: ranked[0]!.class, top: ranked.slice(0, opts.top ?? 3), ...truth };
    });
  } finally {
    model.dispose();
  }
}

/** Images to the model's inputs: each file decoded (PNG) or split (IDX), then through the replayed preprocessing table. */
function imageInputs(run: RunView, pre: ImagePreprocess, opts: PredictOptions): { x: Features; names: string[]; actual?: undefined } {
  const shape = run.record.data?.exampleShape ?? pre.inputShape;
  const examples: ImageExample[] = opts.inputs.flatMap((file) => {
    const ext = extname(file).toLowerCase();
    if (TABLE_EXTENSIONS[ext]) throw new RunnerError(`${file}: ${run.id} is an image model (examples of shape [${shape.join(', ')}]); give PNG images or an IDX file of images`);
    return IMAGE_EXTENSIONS.includes(ext) ? [pngExample(file, shape, opts.invert ?? false)] : idxExamples(file, shape);
  });
  for (const e of examples) if (e.note) opts.warn?.(`${e.name}: ${e.note}`);
  const size = sizeOf(shape);
  const bytes = new Uint8Array(examples.length * size);
  examples.forEach((e, i) => bytes.set(e.bytes, i * size));
  return { x: { bytes, size, ...replayTable(pre.steps, size) }, names: examples.map((e) => e.name) };
}

/** Table rows to the model's inputs through the run's fitted encoder; columns are matched by name. */
function tableInputs(enc: TableEncoder, opts: PredictOptions): { x: Features; names: string[]; actual?: (string | undefined)[] } {
  const cells: (string | number | boolean | null)[][] = [];
  const where: string[] = [];
  const actual: (string | undefined)[] = [];
  for (const file of opts.inputs) {
    const format = TABLE_EXTENSIONS[extname(file).toLowerCase()];
    if (!format) throw new RunnerError(`${file}: this run's model takes table rows with the columns ${enc.features.map((f) => f.name).join(', ')}; give a .csv or .json file`);
    const t: Table = readTable(file, format, 'input');
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

/** The predictions as a table a person reads: input, class (probability), runners-up; or the value. */
export function formatPredictions(ps: readonly Prediction[]): string {
  const lines = ps.map((p) => {
    const actual = p.actual !== undefined ? `  (actual: ${p.actual})` : '';
    if (p.value !== undefined) return `${p.input}  ${p.value.toFixed(4)}${actual}`;
    const [best, ...rest] = p.top!;
    const others = rest.map((r) => `${r.class} ${r.probability.toFixed(4)}`).join(', ');
    return `${p.input}  ${best!.class} (${best!.probability.toFixed(4)})${others ? `  next: ${others}` : ''}${actual}`;
  });
  return `${lines.join('\n')}\n`;
}
