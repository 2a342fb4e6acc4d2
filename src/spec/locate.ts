import type { Document } from 'yaml';
import type { SpecProblem } from '../core/errors.js';
import { formatPath } from './overrides.js';

/** Line and column (1-based) of a character offset in the spec text; for a node of a base spec (extends:), its file and where it was included. */
export type Locate = (offset: number | undefined) => { line?: number; col?: number; file?: string; via?: string };

/** A problem at a key of the spec, with the line and column of its value. */
export function locateProblem(doc: Document, locate: Locate, path: readonly (string | number)[], message: string): SpecProblem {
  const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  return { path: formatPath(path), ...locate(node?.range?.[0]), message };
}

/** A problem with a key of the spec, found without the YAML at hand (by reading data, say): located later. */
export interface KeyProblem { readonly path: readonly (string | number)[]; readonly message: string }

/**
 * A spec value the data shows to be unusable, found while a stage ran (a preprocess step that
 * takes these pixels past float32, a reshape that does not fit them): the run engine adds where
 * the spec sets it before the error is recorded.
 */
export class SpecValueError extends Error {
  constructor(
    readonly path: readonly (string | number)[],
    readonly detail: string,
  ) {
    super(`${formatPath(path)}: ${detail}`);
    this.name = 'SpecValueError';
  }
}
