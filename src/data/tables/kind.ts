import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { RunnerError, SpecError } from '../../core/errors.js';
import { parseKeyPath } from '../../spec/overrides.js';
import { isTable, type DataSpec, type TableDataSpec } from '../../spec/types.js';
import type { DataKind } from '../kind.js';
import { loadTable } from './load.js';
import { prepareTable } from './prepare.js';

const pick = ({ size, mtimeMs }: { size: number; mtimeMs: number }) => ({ size, mtimeMs });

/** Tables in CSV or JSON files: feature columns and a target, encoded by columns fitted on the training rows. */
export const tables: DataKind<TableDataSpec> = {
  owns: (data: DataSpec): data is TableDataSpec => isTable(data),

  /**
   * A table spec is checked against the table itself: columns it names (did-you-mean, at the key's
   * line), then the cells it will use (row and column named), so that no run starts on a bad table.
   */
  check(loaded, specDir, session) {
    const where = (key: string) => {
      const { line } = loaded.problemAt(parseKeyPath(key), '');
      return `${key} (${loaded.file}${line ? ` line ${line}` : ''})`;
    };
    const check = session.tables.check(loaded.spec, specDir, where);
    if (check.keyProblems.length) throw new SpecError(loaded.file, check.keyProblems.map((p) => loaded.problemAt(p.path, p.message)));
    const n = check.valueProblems.length;
    if (n) throw new RunnerError(`the table for ${loaded.file} has ${n} problem${n === 1 ? '' : 's'}`, 2, check.valueProblems);
  },

  prefetch() {},

  /** The table files' path, size and modification time (and the seed, which splits them). */
  async cacheSource({ spec, specDir }) {
    const data = spec.data as TableDataSpec;
    const files = [data.path, data.testPath].filter((p): p is string => p !== undefined).map((p) => resolve(specDir, p));
    return { files: files.map((path) => ({ path, ...pick(statSync(path)) })), seed: spec.seed };
  },

  async load(at, log) {
    return loadTable(at.spec.data as TableDataSpec, at, log);
  },

  prepare(loaded, spec, log) {
    if (loaded.kind !== 'table') throw new Error(`tables cannot prepare ${loaded.kind} data`);
    return prepareTable(loaded, spec, log);
  },
};
