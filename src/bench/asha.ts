import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import { markdownTable } from '../results/tables.js';
import { findRunDirs, readRun } from '../runs/reader.js';
import type { Leaderboard } from '../sweep/leaderboard.js';

/**
 * `npm run bench:asha`: the ASHA sweep of experiments/mnist-asha.yaml against the same sampled
 * configurations trained to max epochs (the grid), for several sweep seeds, each through
 * `runner sweep` as a person runs it. Reports the test accuracy of each side's best trial (chosen
 * on validation), the epochs and wall time spent, and whether the trials ASHA trained to max
 * are bitwise the grid's runs of them. Writes bench-asha-result.json.
 */
const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '0,1,2' },
    jobs: { type: 'string', default: '2' },
    spec: { type: 'string', default: fileURLToPath(new URL('../../experiments/mnist-asha.yaml', import.meta.url)) },
    out: { type: 'string', default: 'bench-asha-result.json' },
  },
});
const BIN = fileURLToPath(new URL('../../bin/runner.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'runner-bench-asha-'));

interface Side { leaderboard: Leaderboard; seconds: number; epochs: number; bestTest: number; maxTest: number; dir: string }

/** One sweep through the CLI: its leaderboard, wall time, epochs trained and test accuracies. */
async function sweep(spec: Record<string, unknown>, name: string): Promise<Side> {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, stringify(spec));
  const started = performance.now();
  const r = await execa('node', [BIN, 'sweep', file, '-j', args.jobs, '--out', join(work, name), '--format', 'json'], { reject: false });
  const seconds = (performance.now() - started) / 1000;
  if (r.exitCode !== 0) throw new Error(`${name}: runner sweep exited ${r.exitCode}\n${r.stderr}`);
  const leaderboard = JSON.parse(r.stdout.slice(0, r.stdout.lastIndexOf('}') + 1)) as Leaderboard;
  const runs = findRunDirs(join(work, name), 2).map(readRun);
  const test = (id: string) => Number(runs.find((x) => x.id === id)?.summary?.accuracy);
  return {
    leaderboard, seconds, dir: join(work, name),
    epochs: runs.reduce((a, x) => a + x.metrics.length, 0),
    bestTest: test(leaderboard.rows[0]!.runs[0]!),
    maxTest: Math.max(...runs.filter((x) => x.summary).map((x) => Number(x.summary!.accuracy))),
  };
}

/** Trials that ASHA trained to max, and how many of them have bitwise the grid's weights. */
function identical(asha: Side, grid: Side): { trained: number; same: number } {
  const weights = (dir: string) => new Map(findRunDirs(dir, 2).map(readRun).filter((r) => r.status === 'completed').map((r) => [r.record.specHash, readFileSync(join(r.dir, 'model', 'weights.bin'))]));
  const a = weights(asha.dir);
  const g = weights(grid.dir);
  return { trained: a.size, same: [...a].filter(([hash, w]) => g.get(hash)?.equals(w)).length };
}

const base = parse(readFileSync(args.spec, 'utf8')) as Record<string, any>;
const rows = [];
try {
  for (const seed of args.seeds.split(',').map(Number)) {
    const asha = structuredClone(base);
    asha.sweep.seed = seed;
    const grid = structuredClone(asha);
    delete grid.sweep.scheduler;
    grid.train.epochs = base.sweep.scheduler.asha.max;
    process.stderr.write(`sweep seed ${seed}: asha ...\n`);
    const a = await sweep(asha, `asha-${seed}`);
    process.stderr.write(`sweep seed ${seed}: grid (the same ${base.sweep.samples} configurations to max) ...\n`);
    const g = await sweep(grid, `grid-${seed}`);
    rows.push({ seed, asha: { test: a.bestTest, epochs: a.epochs, seconds: a.seconds }, grid: { test: g.bestTest, maxTest: g.maxTest, epochs: g.epochs, seconds: g.seconds }, identical: identical(a, g) });
    process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const pct = (x: number) => (100 * x).toFixed(2);
const table = markdownTable([
  ['sweep seed', 'grid best (val-chosen) test acc', 'grid max test acc', 'ASHA best test acc', 'ASHA - grid (pp)', 'epochs ASHA / grid', 'wall ASHA / grid', 'ASHA trials at max identical to grid'],
  ...rows.map((r) => [String(r.seed), pct(r.grid.test), pct(r.grid.maxTest), pct(r.asha.test), (100 * (r.asha.test - r.grid.test)).toFixed(2), `${r.asha.epochs} / ${r.grid.epochs} (${(r.asha.epochs / r.grid.epochs).toFixed(3)})`, `${r.asha.seconds.toFixed(0)} s / ${r.grid.seconds.toFixed(0)} s (${(r.asha.seconds / r.grid.seconds).toFixed(3)})`, `${r.identical.same}/${r.identical.trained}`]),
], ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']);
writeFileSync(args.out, `${JSON.stringify({ spec: args.spec, jobs: Number(args.jobs), rows }, null, 2)}\n`);
process.stdout.write(`${table}\n`);
