import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitEncoder } from '../../src/data/tables/encoder.js';
import { Tables } from '../../src/data/tables/plan.js';
import { splitTable } from '../../src/data/tables/split.js';
import { numberOf } from '../../src/data/tables/table.js';
import { loadSpec } from '../../src/spec/load.js';
import type { TableDataSpec } from '../../src/spec/types.js';
import { readJson, readJsonl, runDirOf } from '../helpers.js';

const BIN = new URL('../../bin/runner.js', import.meta.url).pathname;
const EXPERIMENTS = new URL('../../experiments/', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'runner-tabular-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs an experiment of the repository with the built CLI; returns its run folder. */
async function run(name: string, args: string[] = []): Promise<{ dir: string; stdout: string }> {
  const r = await execa('node', [BIN, 'run', join(EXPERIMENTS, name), '--out', join(work, 'runs'), ...args], { cwd: work, reject: false });
  expect(r.exitCode, r.stderr).toBe(0);
  return { dir: runDirOf(r.stdout, work), stdout: r.stdout };
}

interface Summary { examples: number; accuracy: number; loss: number; mae: number; mse: number; r2: number; confusionMatrix: { labels: string[]; matrix: number[][] } }

describe('experiments/penguins-mlp.yaml (categorical features, missing values filled)', () => {
  let dir: string;
  beforeAll(async () => ({ dir } = await run('penguins-mlp.yaml', ['--set', 'train.epochs=15'])));

  it('classifies the held-out penguins well, with a confusion matrix over the three species', () => {
    const s = readJson(join(dir, 'summary.json')) as Summary;
    expect(s.accuracy).toBeGreaterThan(0.9);
    expect(s.confusionMatrix.labels).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(s.confusionMatrix.matrix.flat().reduce((a, b) => a + b, 0)).toBe(s.examples);
    expect(readJsonl(join(dir, 'metrics.jsonl'))).toHaveLength(15);
  });

  it('stores the fill values and standardization statistics of the training rows only', () => {
    const { spec } = loadSpec(join(EXPERIMENTS, 'penguins-mlp.yaml'));
    const check = new Tables().check(spec, EXPERIMENTS);
    const { train } = splitTable(check.tables, check.plan!, spec.data as TableDataSpec, spec.seed);
    const stored = (readJson(join(dir, 'preprocess.json')) as { table: ReturnType<typeof fitEncoder> }).table;
    const j = check.plan!.features.findIndex((f) => f.name === 'Body Mass (g)');
    const masses = train.cells.map((r) => numberOf(r[j]!)).filter((v): v is number => v !== undefined);
    const mean = masses.reduce((a, b) => a + b, 0) / masses.length;
    expect(stored.features[j]!.fill).toBeCloseTo(mean, 9);
    expect(stored.features.find((f) => f.name === 'Island')!.vocabulary).toEqual(['Biscoe', 'Dream', 'Torgersen']);
    const standardize = stored.steps.find((s) => s.step === 'standardize')!;
    // Gaps filled with the mean leave the mean unchanged; compare to float32 precision.
    expect((standardize.stats['mean'] as number[])[standardize.columns.indexOf('Body Mass (g)')]).toBeCloseTo(mean, 2);
    expect(stored.inputs).toHaveLength(9);
  });

  it('records the columns, the rows used and the table file in run.json', () => {
    const data = (readJson(join(dir, 'run.json')) as { data: { format: string; counts: { train: number; validation: number; test: number }; files: { sha256: string }[]; columns: { target: string } } }).data;
    expect(data.format).toBe('json');
    expect(data.counts.train + data.counts.validation + data.counts.test).toBe(344);
    expect(data.columns.target).toBe('Species');
    expect(data.files[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('experiments/cars-regression.yaml (regression, rows with gaps dropped)', () => {
  it('predicts miles per gallon with R^2 well above 0 on the test rows, on wasm and cpu alike', async () => {
    const runs = await Promise.all(['wasm', 'cpu'].map((b) => run('cars-regression.yaml', ['--backend', b, '--set', 'train.epochs=30'])));
    const [wasm, cpu] = runs.map((r) => readJson(join(r.dir, 'summary.json')) as Summary);
    expect(wasm!.r2).toBeGreaterThan(0.6);
    expect(wasm!.mae).toBeLessThan(4);
    expect(wasm!.mse).toBeCloseTo(wasm!.loss, 3);
    expect(cpu!.r2).toBeCloseTo(wasm!.r2, 3);
    expect(runs[0]!.stdout).toMatch(/^test: loss \d+\.\d{4} {2}mae \d\.\d{4} {2}r2 0\.\d{4} {2}\(78 examples\)$/m);
    const data = (readJson(join(runs[0]!.dir, 'run.json')) as { data: { dropped: { train: number } } }).data;
    expect(data.dropped.train).toBe(14);
  });
});
