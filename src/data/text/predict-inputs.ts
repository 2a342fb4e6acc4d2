import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { RunnerError } from '../../core/errors.js';
import { quotedPrefix } from '../../core/text.js';
import type { InputOptions, PredictInputs } from '../predict-inputs.js';
import { labelOf, readTable, rowWhere, type TableFormat } from '../tables/table.js';
import { vectorize, type FittedText } from './prepare.js';

const ROW_FILES: Record<string, TableFormat> = { '.csv': 'csv', '.json': 'json', '.jsonl': 'jsonl' };

/**
 * Documents to the model's inputs through the run's fitted tokenizer and vocabulary: each --text is
 * a document; so is each text file, except CSV, JSON and JSON Lines files for a model trained on
 * a file's text columns, whose rows are documents (and whose target, when there, is shown).
 */
export function textInputs(files: readonly string[], texts: readonly string[], fitted: FittedText, opts: InputOptions): PredictInputs {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const docs: string[] = [];
  const names: string[] = [];
  const actual: (string | undefined)[] = [];
  for (const file of files) {
    const format = ROW_FILES[extname(file).toLowerCase()];
    if (format && fitted.columns) {
      const t = readTable(file, format, 'input', opts.limits);
      const missing = fitted.columns.filter((c) => !t.columns.includes(c));
      if (missing.length) throw new RunnerError(`${file} lacks the text column${missing.length === 1 ? '' : 's'} ${missing.map((m) => `'${m}'`).join(', ')}, which the model reads`);
      const idx = fitted.columns.map((c) => t.columns.indexOf(c));
      const target = fitted.target === undefined ? -1 : t.columns.indexOf(fitted.target);
      t.rows.forEach((r, i) => {
        docs.push(idx.map((j) => (r[j] === null || r[j] === undefined ? '' : String(r[j]))).join('\n'));
        names.push(`${file} ${rowWhere(t, i)}`);
        actual.push(target >= 0 && r[target] !== null ? labelOf(r[target]!) : undefined);
      });
      continue;
    }
    try {
      docs.push(decoder.decode(readFileSync(file)));
    } catch (err) {
      if (err instanceof TypeError) throw new RunnerError(`${file} is not UTF-8 text: this run's model reads text documents`);
      throw err;
    }
    names.push(basename(file));
    actual.push(undefined);
  }
  texts.forEach((t, i) => {
    docs.push(t);
    names.push(`--text ${i + 1} ${quotedPrefix(t, 40)}`);
    actual.push(undefined);
  });
  const empty = docs.filter((d) => d.trim() === '').length;
  if (empty) opts.warn?.(`${empty} document(s) are empty: the model sees only padding`);
  return { x: vectorize(fitted, docs), names, ...(actual.some((a) => a !== undefined) ? { actual } : {}) };
}
