import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { RUN_FILES } from '../runs/run-dir.js';
import { compareRuns } from '../results/compare.js';
import { RunnerError } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import { readRun, resolveRunArgs } from '../runs/reader.js';
import { buildReport } from '../results/html.js';
import { buildSweepReport, isSweepDir } from '../sweep/report-html.js';

/** `runner report`: one self-contained HTML file for one or more runs; returns its path and what is wrong with the runs' files. */
export async function reportCommand(args: readonly string[], out = 'report.html', runsDir = 'runs'): Promise<{ path: string; warnings: string[] }> {
  const dirs = resolveRunArgs(args, runsDir);
  if (dirs.length === 0) throw new RunnerError('report needs at least one run');
  // A sweep folder on its own: the sweep's page (leaderboard, every trial by epoch).
  if (dirs.length === 1 && isSweepDir(dirs[0]!)) return writeReport(await buildSweepReport(dirs[0]!), out, []);
  const runs = dirs.map(readRun);
  // Each completed run's MODEL_CARD.md, linked relative to where the report goes.
  const cards = new Map(runs.filter((r) => existsSync(join(r.dir, RUN_FILES.card))).map((r) => [r.id, relative(dirname(resolve(out)), join(r.dir, RUN_FILES.card))]));
  const html = await buildReport(runs, runs.length > 1 ? compareRuns(runs, 0) : undefined, new Date(), cards);
  return writeReport(html, out, runs.flatMap((r) => r.problems.map((p) => `${r.id}: ${p}`)));
}

function writeReport(html: string, out: string, warnings: string[]): { path: string; warnings: string[] } {
  const target = resolve(out);
  try {
    writeFileAtomic(target, html);
  } catch (err) {
    throw new RunnerError(`cannot write the report to '${out}': ${(err as Error).message}`, 2, ['-o must name a file in a folder you can write to']);
  }
  return { path: target, warnings };
}
