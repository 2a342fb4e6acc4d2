import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendChoice } from '../backend/select.js';
import { RunnerError } from '../core/errors.js';
import { checkReadable, limitsFrom } from '../core/limits.js';
import { imageInputs, type ImagePreprocess } from '../data/images/predict-inputs.js';
import type { TableEncoder } from '../data/tables/encoder.js';
import { tableInputs } from '../data/tables/predict-inputs.js';
import type { FittedText } from '../data/text/prepare.js';
import { textInputs } from '../data/text/predict-inputs.js';
import { loadBackend } from '../pipeline/run.js';
import { readRun, resolveRunArgs } from '../runs/reader.js';
import { RUN_FILES } from '../runs/run-dir.js';
import type { Prediction } from '../train/inference.js';

export type { Prediction } from '../train/inference.js';

/** What `runner predict` takes: the run, the input files, and how to show and read them. */
export interface PredictOptions {
  readonly run: string;
  readonly inputs: readonly string[];
  /** Text runs: documents given on the command line (--text). */
  readonly texts?: readonly string[];
  readonly runsDir?: string;
  readonly top?: number;
  readonly invert?: boolean;
  readonly backend?: BackendChoice;
  readonly warn?: (msg: string) => void;
}

/**
 * `runner predict`: applies a run's model, with the preprocessing it was trained with, to new
 * inputs: PNG or IDX images for an image run, CSV or JSON rows for a table run, text files or
 * --text documents for a text run.
 */
export async function predictCommand(opts: PredictOptions): Promise<Prediction[]> {
  const [dir] = resolveRunArgs([opts.run], opts.runsDir);
  const run = readRun(dir!);
  if (!existsSync(join(run.dir, RUN_FILES.modelJson))) throw new RunnerError(`${run.id} has no trained model (status: ${run.status})`, 2, run.status === 'interrupted' || run.status === 'stopped' ? ['finish it with runner resume (a trial an adaptive sweep stopped at a rung goes on to its max epochs)'] : []);
  const pre = readPreprocess(join(run.dir, RUN_FILES.preprocess));
  // Inputs first: one the model cannot take is reported before TensorFlow.js and the model load.
  const limits = limitsFrom();
  for (const input of opts.inputs) checkReadable(input, 'input', limits);
  const read = { model: run.id, exampleShape: run.record.data?.exampleShape, invert: opts.invert, warn: opts.warn, limits };
  const texts = opts.texts ?? [];
  if (texts.length && !pre.text) throw new RunnerError(`${run.id} was trained on ${pre.table ? 'table rows' : 'images'}: --text is for runs trained on text`);
  if (!texts.length && !opts.inputs.length) throw new RunnerError(`nothing to predict: give ${pre.text ? 'text files or --text "..."' : 'input files'}`);
  const { x, names, actual } = pre.text ? textInputs(opts.inputs, texts, pre.text, read)
    : pre.table ? tableInputs(opts.inputs, pre.table, read) : imageInputs(opts.inputs, pre, read);
  await loadBackend({ backend: opts.backend ?? run.record.backend.used ?? 'auto' });
  const [{ loadModel }, { predict }] = await Promise.all([import('../model/io.js'), import('../train/inference.js')]);
  const model = await loadModel(join(run.dir, RUN_FILES.model));
  try {
    return predict(model, x, names, { inputShape: pre.inputShape, classNames: pre.classNames, regression: pre.table?.task === 'regression' }, opts.top ?? 3, actual);
  } finally {
    model.dispose();
  }
}

/** preprocess.json: what the model's inputs go through; a missing or damaged one is a RunnerError naming it. */
function readPreprocess(file: string): ImagePreprocess & { table?: TableEncoder; text?: FittedText } {
  let pre: unknown;
  try {
    pre = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RunnerError(`${file} is ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `not valid JSON (${(err as Error).message})`}: predict needs the preprocessing the model was trained with`);
  }
  const p = pre as Partial<ImagePreprocess> & { table?: TableEncoder; text?: FittedText };
  if (typeof p !== 'object' || p === null || !Array.isArray(p.inputShape) || !Array.isArray(p.classNames) || (!p.table && !p.text && !Array.isArray(p.steps))) {
    throw new RunnerError(`${file} is not a preprocess.json runner wrote (no inputShape, classNames and steps, table or text)`);
  }
  if (p.text && (!Array.isArray(p.text.vocabulary) || typeof p.text.tokenize !== 'object' || (!p.text.sequence && !p.text.bagOfWords))) {
    throw new RunnerError(`${file}: its text section has no vocabulary, tokenize and sequence or bagOfWords`);
  }
  return p as ImagePreprocess & { table?: TableEncoder; text?: FittedText };
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
