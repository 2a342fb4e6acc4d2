import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { RunnerError } from '../../core/errors.js';
import { formatPath } from '../../spec/overrides.js';
import type { TableDataSpec } from '../../spec/types.js';
import type { DataLog, DataPlace } from '../kind.js';
import type { DataFingerprint, TableLoad } from '../prepared.js';
import { splitTable } from './split.js';

/** A table: checked as `runner validate` checks it, then split with the seed. */
export function loadTable(data: TableDataSpec, { spec, specDir, session }: DataPlace, log: DataLog): { output: TableLoad; fingerprint: DataFingerprint } {
  const check = session.tables.check(spec, specDir);
  const problems = [...check.keyProblems.map((p) => `${formatPath(p.path)}: ${p.message}`), ...check.valueProblems];
  if (problems.length || !check.plan) throw new RunnerError(`${check.tables.train.file} does not fit the spec's data section (${problems.length} problems)`, 2, problems);
  const { train, test } = check.tables;
  const splits = splitTable(check.tables, check.plan, data, spec.seed);
  const files = [train, ...(test ? [test] : [])].map((t) => ({ name: basename(t.file), sha256: t.sha256 }));
  const counts = { train: splits.train.cells.length, validation: splits.val.cells.length, test: splits.test.cells.length };
  const fingerprint: DataFingerprint = {
    dataset: basename(train.file),
    format: data.format,
    source: 'path',
    location: train.file,
    files,
    available: { rows: train.rows.length + (test?.rows.length ?? 0) },
    dropped: splits.dropped,
    counts,
    columns: { features: check.plan.features, target: check.plan.target, task: check.plan.task },
    sha256: createHash('sha256').update(JSON.stringify({ files, counts, seed: spec.seed, split: [data.testSplit, data.validationSplit, data.trainLimit, data.testLimit, data.missing] })).digest('hex'),
  };
  if (splits.dropped.train + splits.dropped.test > 0) {
    log.info(`dropped ${splits.dropped.train + splits.dropped.test} rows with missing values (data.missing: ${data.missing})`);
  }
  return { output: { kind: 'table', train: splits.train, val: splits.val, test: splits.test, plan: check.plan }, fingerprint };
}
