import { extname } from 'node:path';
import { RunnerError } from '../../core/errors.js';
import { sizeOf } from '../features.js';
import type { InputOptions, PredictInputs } from '../predict-inputs.js';
import { replayTable } from './byte-table.js';
import { idxExamples, pngExample, type ImageExample } from './image-input.js';

/** preprocess.json of an image run: the steps with what they fitted, the model's input shape, the class names. */
export interface ImagePreprocess { readonly steps: readonly Record<string, Record<string, unknown>>[]; readonly inputShape: readonly number[]; readonly classNames: readonly string[] }

const IMAGE_EXTENSIONS = ['.png'];
const TABLE_EXTENSIONS = ['.csv', '.json'];

/** Images to the model's inputs: each file decoded (PNG) or split (IDX), then through the replayed preprocessing table. */
export function imageInputs(files: readonly string[], pre: ImagePreprocess, opts: InputOptions): PredictInputs {
  const shape = opts.exampleShape ?? pre.inputShape;
  const examples: ImageExample[] = files.flatMap((file) => {
    const ext = extname(file).toLowerCase();
    if (TABLE_EXTENSIONS.includes(ext)) throw new RunnerError(`${file}: ${opts.model} is an image model (examples of shape [${shape.join(', ')}]); give PNG images or an IDX file of images`);
    return IMAGE_EXTENSIONS.includes(ext) ? [pngExample(file, shape, opts.invert ?? false, opts.limits)] : idxExamples(file, shape, opts.limits);
  });
  for (const e of examples) if (e.note) opts.warn?.(`${e.name}: ${e.note}`);
  const size = sizeOf(shape);
  const bytes = new Uint8Array(examples.length * size);
  examples.forEach((e, i) => bytes.set(e.bytes, i * size));
  return { x: { bytes, size, ...replayTable(pre.steps, size) }, names: examples.map((e) => e.name) };
}
