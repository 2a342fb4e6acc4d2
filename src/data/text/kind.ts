import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { RunnerError, SpecError } from '../../core/errors.js';
import { parseKeyPath } from '../../spec/overrides.js';
import { isText, isTextFile, type DataSpec, type TextDataSpec, type TextFileDataSpec, type TokenizeArgs } from '../../spec/types.js';
import type { DataKind } from '../kind.js';
import { corpusFiles, corpusFolder } from './corpus.js';
import { checkTextFiles } from './files.js';
import { loadText, loadTextFile } from './load.js';
import { fitVocabulary, tokenize } from './tokens.js';
import { prepareText } from './prepare.js';

/** A labelled text corpus: documents tokenized, indexed by a vocabulary fitted on the training split, and vectorized. */
export const text: DataKind<TextDataSpec | TextFileDataSpec> = {
  owns: (data: DataSpec): data is TextDataSpec | TextFileDataSpec => isText(data),

  /**
   * The corpus package must be there (a clear error names the npm command otherwise); a text file
   * is read and checked as a table is: its columns at the spec's keys, its cells by row and column.
   */
  check(loaded, specDir, session) {
    const data = loaded.spec.data;
    if (!isTextFile(data)) {
      corpusFolder();
      return;
    }
    const where = (key: string) => {
      const { line } = loaded.problemAt(parseKeyPath(key), '');
      return `${key} (${loaded.file}${line ? ` line ${line}` : ''})`;
    };
    const check = checkTextFiles(data, specDir, session, where);
    if (check.keyProblems.length) throw new SpecError(loaded.file, check.keyProblems.map((p) => loaded.problemAt(p.path, p.message)));
    const n = check.valueProblems.length;
    if (n) throw new RunnerError(`the text file for ${loaded.file} has ${n} problem${n === 1 ? '' : 's'}`, 2, check.valueProblems);
    // A vocabulary empty over every row is empty over the training rows too: say so before any run folder.
    const steps = loaded.spec.preprocess;
    const [tok, vocab] = [steps.findIndex((s) => 'tokenize' in s), steps.findIndex((s) => 'vocabulary' in s)];
    if (tok < 0 || vocab < 0) return;
    const { minCount } = (steps[vocab] as { vocabulary: { minCount: number } }).vocabulary;
    const docs = [...check.train!.texts, ...(check.test?.texts ?? [])].map((t) => tokenize(t, (steps[tok] as { tokenize: TokenizeArgs }).tokenize));
    if (fitVocabulary(docs, 1, minCount).length === 0) {
      throw new SpecError(loaded.file, [loaded.problemAt(['preprocess', vocab, 'vocabulary', 'minCount'], `the vocabulary would be empty: no token of the ${docs.length} documents occurs ${minCount} times or more`)]);
    }
  },

  prefetch() {},

  /** The package's version and the files of the chosen groups (their names hold their MD5s), and what splits them. */
  async cacheSource({ spec, specDir }) {
    const data = spec.data;
    if (isTextFile(data)) {
      const files = [data.path, data.testPath].filter((p): p is string => p !== undefined).map((p) => resolve(specDir, p));
      return { files: files.map((path) => { const { size, mtimeMs } = statSync(path); return { path, size, mtimeMs }; }), seed: spec.seed };
    }
    const { version, files } = corpusFiles((data as TextDataSpec).groups);
    return { version, files, stripHeaders: (data as TextDataSpec).stripHeaders, seed: spec.seed };
  },

  async load(at, log) {
    const data = at.spec.data;
    return isTextFile(data) ? loadTextFile(data, at, log) : loadText(data as TextDataSpec, at.spec.seed, log);
  },

  prepare(loaded, spec, log) {
    if (loaded.kind !== 'text') throw new Error(`text cannot prepare ${loaded.kind} data`);
    return prepareText(loaded, spec, log);
  },
};
