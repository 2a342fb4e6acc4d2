import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { RunnerError } from '../../core/errors.js';
import { quotedPrefix } from '../../core/text.js';
import type { InputOptions, PredictInputs } from '../predict-inputs.js';
import { vectorize, type FittedText } from './prepare.js';

/** Documents to the model's inputs through the run's fitted tokenizer and vocabulary: each text file is one document, each --text another. */
export function textInputs(files: readonly string[], texts: readonly string[], fitted: FittedText, opts: InputOptions): PredictInputs {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const docs: string[] = [];
  const names: string[] = [];
  for (const file of files) {
    try {
      docs.push(decoder.decode(readFileSync(file)));
    } catch (err) {
      if (err instanceof TypeError) throw new RunnerError(`${file} is not UTF-8 text: this run's model reads text documents`);
      throw err;
    }
    names.push(basename(file));
  }
  texts.forEach((t, i) => {
    docs.push(t);
    names.push(`--text ${i + 1} ${quotedPrefix(t, 40)}`);
  });
  const empty = docs.filter((d) => d.trim() === '').length;
  if (empty) opts.warn?.(`${empty} document(s) are empty: the model sees only padding`);
  return { x: vectorize(fitted, docs), names };
}
