import { formatComparison, type CompareFormat } from '../results/compare-format.js';
import { compareRuns, type Comparison } from '../results/compare.js';
import { EXIT, RunnerError } from '../core/errors.js';
import { readRun, resolveRunArgs } from '../runs/reader.js';

export interface CompareOptions {
  readonly runs: readonly string[];
  readonly baseline?: string;
  readonly all?: boolean;
  readonly format?: CompareFormat;
  readonly failIf?: readonly string[];
  readonly runsDir?: string;
}

/** `runner compare`: reads the runs (never writes them), compares, renders; exit 1 when a gate breaks. */
export function compareCommand(opts: CompareOptions): { exitCode: number; output: string; comparison: Comparison } {
  const dirs = resolveRunArgs(opts.runs, opts.runsDir);
  if (dirs.length < 2) {
    throw new RunnerError(`compare needs at least two runs, got ${dirs.length}`, EXIT.usage, ['e.g. runner compare runs/*  or  runner compare <id> <id>']);
  }
  const runs = dirs.map(readRun);
  let base = 0;
  if (opts.baseline !== undefined) {
    const [baseDir] = resolveRunArgs([opts.baseline], opts.runsDir);
    base = runs.findIndex((r) => r.dir === baseDir);
    if (base < 0) {
      runs.unshift(readRun(baseDir!));
      base = 0;
    }
  }
  const comparison = compareRuns(runs, base, { all: opts.all, gates: opts.failIf });
  const broken = comparison.gates.some((g) => g.broken);
  return { exitCode: broken ? EXIT.failed : EXIT.ok, output: formatComparison(comparison, opts.format ?? 'table'), comparison };
}
