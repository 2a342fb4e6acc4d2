import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const BIN = new URL('../../bin/runner.js', import.meta.url).pathname;
const VEGA = new URL('../../node_modules/vega-datasets/data/', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'runner-init-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const runner = (args: string[]) => execa('node', [BIN, ...args], { cwd: work, reject: false });

describe('runner init', () => {
  it.each([
    { file: 'penguins.json', target: 'Species', want: { task: undefined, classes: 3, skipped: [] as string[] } },
    { file: 'seattle-weather.csv', target: 'weather', want: { task: undefined, classes: 5, skipped: ['date'] } },
    { file: 'cars.json', target: 'Miles_per_Gallon', want: { task: 'regression', classes: 1, skipped: ['Name'] } },
  ])('writes a spec for $file that validates and trains as it is', async ({ file, target, want }) => {
    const out = `${file}.yaml`;
    const r = await runner(['init', '--data', join(VEGA, file), '--target', target, '-o', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    const text = readFileSync(join(work, out), 'utf8');
    const spec = parse(text) as { data: { task?: string; features: string[]; target: string }; model: { layers: { dense: { units: number } }[] } };
    expect(spec.data.target).toBe(target);
    expect(spec.data.task).toBe(want.task);
    for (const s of want.skipped) {
      expect(spec.data.features).not.toContain(s);
      expect(text).toMatch(new RegExp(`#   ${s}: left out`));
    }
    expect(spec.model.layers.at(-1)!.dense.units).toBe(want.classes);
    const run = await runner(['run', out, '--set', 'train.epochs=2', '--out', 'runs']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(want.task ? /test: loss [\d.]+ {2}mae/ : /test: loss [\d.]+ {2}accuracy/);
  });

  it('writes a bag-of-words text model for a table with free text, which trains as written', async () => {
    const words = { good: ['superb', 'lovely', 'great', 'enjoyed'], bad: ['dull', 'boring', 'terrible', 'awful'] } as const;
    const rows = Array.from({ length: 200 }, (_, i) => {
      const label = i % 2 ? 'good' : 'bad';
      const w = words[label];
      return `${i},"screening ${i}: the film was ${w[i % 4]} and the plot ${w[(i + 1) % 4]} overall",${label}`;
    });
    writeFileSync(join(work, 'reviews.csv'), `id,review,label\n${rows.join('\n')}\n`);
    const r = await runner(['init', '--data', 'reviews.csv', '--target', 'label']);
    expect(r.exitCode, r.stderr).toBe(0);
    const text = readFileSync(join(work, 'reviews.yaml'), 'utf8');
    expect(parse(text)).toMatchObject({ data: { format: 'csv', text: ['review'], target: 'label' }, compile: { loss: 'sparseCategoricalCrossentropy' } });
    expect(text).toMatch(/#   id: left out \(numeric; a text model reads the text columns only\)/);
    const run = await runner(['run', 'reviews.yaml', '--set', 'train.epochs=3', '--out', 'runs']);
    expect(run.exitCode, run.stderr).toBe(0);
  });

  it('writes the seed MLP for --dataset mnist', async () => {
    const r = await runner(['init', '--dataset', 'mnist']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(parse(readFileSync(join(work, 'mnist-mlp.yaml'), 'utf8'))).toMatchObject({ data: { dataset: 'mnist' }, train: { epochs: 10, batchSize: 32 } });
    expect((await runner(['validate', 'mnist-mlp.yaml'])).exitCode).toBe(0);
  });

  it('never replaces a file without --force', async () => {
    writeFileSync(join(work, 'mine.yaml'), 'name: mine\n');
    const r = await runner(['init', '--dataset', 'mnist', '-o', 'mine.yaml']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('mine.yaml exists: runner init does not replace a file');
    expect(readFileSync(join(work, 'mine.yaml'), 'utf8')).toBe('name: mine\n');
    expect((await runner(['init', '--dataset', 'mnist', '-o', 'mine.yaml', '--force'])).exitCode).toBe(0);
    expect(readFileSync(join(work, 'mine.yaml'), 'utf8')).toContain('dataset: mnist');
  });

  it.each([
    { what: 'a file that is not a table', args: () => ['--data', BIN, '--target', 'x'], want: "expected a table file (.csv, .json, .jsonl), not '.js'" },
    { what: 'a .csv that is not text', args: () => (writeFileSync(join(work, 'not.csv'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46])), ['--data', 'not.csv', '--target', 'x']), want: 'UTF-8' },
    { what: 'a misspelled target', args: () => ['--data', join(VEGA, 'penguins.json'), '--target', 'species'], want: "--target species: " },
    { what: 'no target', args: () => ['--data', join(VEGA, 'penguins.json')], want: '--data needs --target COLUMN' },
    { what: 'an unknown dataset', args: () => ['--dataset', 'cifar'], want: '--dataset cifar: expected mnist or fashion-mnist' },
    {
      what: 'a numeric target with a value beyond float32, at its line (not 60 classes of labels)',
      args: () => (writeFileSync(join(work, 'big.csv'), ['a,y', ...Array.from({ length: 60 }, (_, i) => `${i / 7},${i === 7 ? '1e40' : i / 3}`)].join('\n')), ['--data', 'big.csv', '--target', 'y']),
      want: "refused.yaml not written: the table for refused.yaml has 1 problem\n  big.csv line 9, column 'y': '1e40' is beyond the range of a 32-bit float",
    },
  ])('refuses $what (exit 2, nothing written)', async ({ args, want }) => {
    const r = await runner(['init', ...args(), '-o', 'refused.yaml']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(want);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(() => readFileSync(join(work, 'refused.yaml'))).toThrow();
  });
});
