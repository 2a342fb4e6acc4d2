import type { DataSpec, TextDataSpec } from '../../spec/types.js';
import type { DataKind } from '../kind.js';
import { corpusFiles, corpusFolder } from './corpus.js';
import { loadText } from './load.js';
import { prepareText } from './prepare.js';

/** A labelled text corpus: documents tokenized, indexed by a vocabulary fitted on the training split, and vectorized. */
export const text: DataKind<TextDataSpec> = {
  owns: (data: DataSpec): data is TextDataSpec => data.dataset === 'spam-assassin',

  /** The corpus package must be there (a clear error names the npm command otherwise). */
  check() {
    corpusFolder();
  },

  prefetch() {},

  /** The package's version and the files of the chosen groups (their names hold their MD5s), and what splits them. */
  async cacheSource({ spec }) {
    const data = spec.data as TextDataSpec;
    const { version, files } = corpusFiles(data.groups);
    return { version, files, stripHeaders: data.stripHeaders, seed: spec.seed };
  },

  async load(at, log) {
    return loadText(at.spec.data as TextDataSpec, at.spec.seed, log);
  },

  prepare(loaded, spec, log) {
    if (loaded.kind !== 'text') throw new Error(`text cannot prepare ${loaded.kind} data`);
    return prepareText(loaded, spec, log);
  },
};
