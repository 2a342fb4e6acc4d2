import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareCommand } from '../../src/commands/compare.js';
import { lsCommand } from '../../src/commands/ls.js';
import { flatten } from '../../src/results/compare.js';
import { listRuns } from '../../src/runs/listing.js';
import { RunnerError } from '../../src/core/errors.js';
import { readRun, resolveRunArgs } from '../../src/runs/reader.js';
import { writeFakeRun } from '../fixtures/runs.js';

const root = mkdtempSync(join(tmpdir(), 'runner-compare-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const a = writeFakeRun(root, { id: '20261121-100000-mlp-aaa111', lr: 0.001, accuracy: 0.9 });
const b = writeFakeRun(root, { id: '20261122-100000-mlp-bbb222', lr: 0.01, accuracy: 0.88, epochs: [[0.6, 0.7, 0.5, 0.8], [0.4, 0.85, 0.3, 0.86], [0.35, 0.87, 0.33, 0.87]] });

describe('compare', () => {
  it('shows only the changed spec keys, with each run’s value', () => {
    const { comparison } = compareCommand({ runs: [a, b] });
    expect(comparison.params).toEqual([
      { key: 'compile.optimizer.adam.learningRate', values: [0.001, 0.01], changed: true },
      { key: 'train.epochs', values: [2, 3], changed: true },
    ]);
    expect(compareCommand({ runs: [a, b], all: true }).comparison.params.map((p) => p.key)).toContain('seed');
  });

  it('computes values and deltas against the baseline', () => {
    const { comparison } = compareCommand({ runs: [a, b] });
    const [base, other] = comparison.runs;
    expect(base!.values).toMatchObject({ 'test.accuracy': 0.9, 'best.epoch': 2, 'best.val_loss': 0.35, epochs: 2, duration: 20, fit_seconds: 4, samples_per_second: 500 });
    expect(other!.values).toMatchObject({ 'test.accuracy': 0.88, 'best.epoch': 2, 'best.val_loss': 0.3, epochs: 3 });
    expect(other!.deltas['test.accuracy']).toBeCloseTo(-0.02, 12);
    expect(other!.deltas['best.val_loss']).toBeCloseTo(-0.05, 12);
    expect(other!.curve).toEqual({ metric: 'val_loss', values: [0.5, 0.3, 0.33] });
  });

  it('takes --baseline from the arguments or from outside them', () => {
    expect(compareCommand({ runs: [a, b], baseline: b }).comparison.baseline).toBe('20261122-100000-mlp-bbb222');
    const { comparison } = compareCommand({ runs: [b, writeFakeRun(root, { id: '20261123-100000-mlp-ccc333' })], baseline: a });
    expect(comparison.runs.map((r) => r.baseline)).toEqual([true, false, false]);
  });

  it('passes and breaks --fail-if gates with exit codes 0 and 1, naming the run and values', () => {
    const pass = compareCommand({ runs: [a, b], failIf: ['test.accuracy < baseline.test.accuracy - 0.05'] });
    expect(pass.exitCode).toBe(0);
    expect(pass.output).toContain('pass 20261122-100000-mlp-bbb222: test.accuracy < baseline.test.accuracy - 0.05');
    const fail = compareCommand({ runs: [a, b], failIf: ['test.accuracy < baseline.test.accuracy - 0.005'] });
    expect(fail.exitCode).toBe(1);
    expect(fail.output).toContain('FAIL 20261122-100000-mlp-bbb222: test.accuracy < baseline.test.accuracy - 0.005  (test.accuracy = 0.88, baseline.test.accuracy - 0.005 = 0.895)');
  });

  it('fails a gate on a run that has no value to judge (a failed run)', () => {
    const failed = writeFakeRun(root, { id: '20261124-100000-mlp-ddd444', status: 'failed', summary: false });
    const r = compareCommand({ runs: [a, failed], failIf: ['test.accuracy < 0.5'] });
    expect(r.exitCode).toBe(1);
    expect(r.comparison.gates[0]!.detail).toBe('the run has no test.accuracy (status failed)');
    expect(r.output).toMatch(/test\.accuracy\s+0\.9000\s+n\/a/);
    expect(r.comparison.warnings).toContain('20261124-100000-mlp-ddd444: status is failed; its values are partial');
  });

  it('warns, per run and file, about a damaged metrics.jsonl and a missing summary.json, and breaks a gate that needs them', () => {
    const garbled = writeFakeRun(root, { id: '20261126-100000-mlp-fff666' });
    writeFileSync(join(garbled, 'metrics.jsonl'), `${readFileSync(join(garbled, 'metrics.jsonl'), 'utf8')}not json at all\n{"epoch": 3}\n`);
    const unscored = writeFakeRun(root, { id: '20261127-100000-mlp-ggg777', summary: false });
    const r = compareCommand({ runs: [a, garbled, unscored], failIf: ['test.accuracy < 0.5'] });
    expect(r.comparison.warnings).toEqual(expect.arrayContaining([
      '20261126-100000-mlp-fff666: metrics.jsonl line 3 is not an epoch\'s values (damaged?): epochs from there on are left out',
      '20261127-100000-mlp-ggg777: summary.json is missing (deleted?): the run has no test values',
    ]));
    expect(r.output).toContain('summary.json is missing');
    expect(r.comparison.gates.find((g) => g.run === '20261127-100000-mlp-ggg777')).toMatchObject({ broken: true });
    expect(r.exitCode).toBe(1);
    expect(listRuns(root).find((l) => l.id === '20261127-100000-mlp-ggg777')?.problem).toContain('summary.json is missing');
  });

  it('warns when runs are not comparable', () => {
    const other = writeFakeRun(root, { id: '20261125-100000-mlp-eee555', extra: { backend: { used: 'cpu' }, data: { dataset: 'mnist', source: 'embedded', embedded: true, sha256: 'def', counts: { train: 10 } } } });
    const { comparison } = compareCommand({ runs: [a, other] });
    expect(comparison.warnings).toEqual(expect.arrayContaining([
      '20261125-100000-mlp-eee555: data fingerprint differs from the baseline (def vs abc)',
      '20261125-100000-mlp-eee555: backend differs from the baseline (cpu vs wasm)',
      '20261125-100000-mlp-eee555: trained on the embedded 10,000 MNIST digits, not full MNIST',
    ]));
  });

  it('renders md, csv and json from the same numbers', () => {
    const md = compareCommand({ runs: [a, b], format: 'md' }).output;
    expect(md).toContain('| compile.optimizer.adam.learningRate | 0.001 | 0.01 |');
    expect(md).toContain('| test.accuracy | 0.9000 | 0.8800 (-0.0200) |');
    const csvText = compareCommand({ runs: [a, b], format: 'csv' }).output.trim().split('\n');
    const header = csvText[0]!.split(',');
    const row = csvText[2]!.split(',');
    expect(row[header.indexOf('param:compile.optimizer.adam.learningRate')]).toBe('0.01');
    expect(Number(row[header.indexOf('delta:test.accuracy')])).toBeCloseTo(-0.02, 12);
    const json = JSON.parse(compareCommand({ runs: [a, b], format: 'json' }).output);
    expect(json.formatVersion).toBe(1);
    expect(json.runs[1].values['test.accuracy']).toBe(0.88);
  });

  it('never modifies a run folder', () => {
    const before = readdirSync(a).map((f) => [f, statSync(join(a, f)).mtimeMs, readFileSync(join(a, f), 'utf8')]);
    compareCommand({ runs: [a, b], format: 'json', failIf: ['test.accuracy < 1'] });
    expect(readdirSync(a).map((f) => [f, statSync(join(a, f)).mtimeMs, readFileSync(join(a, f), 'utf8')])).toEqual(before);
  });
});

describe('reading runs', () => {
  const bad = (name: string, setup: () => string, message: string) => ({ name, setup, message });
  it.each([
    bad('a folder that is not a run', () => mkdtempSync(join(root, 'plain-')), 'is not a run folder: it has no run.json'),
    bad('a missing folder', () => join(root, 'nope'), "is neither a folder nor the start of a run id"),
    bad('a truncated run.json', () => {
      const d = writeFakeRun(root, { id: '20261126-100000-mlp-fff666' });
      writeFileSync(join(d, 'run.json'), '{"formatVersion": 1, "id": "x", "sta');
      return d;
    }, 'run.json of'),
    bad('a resolved.yaml edited into invalid YAML', () => {
      const d = writeFakeRun(root, { id: '20261126-110000-mlp-fff777' });
      writeFileSync(join(d, 'resolved.yaml'), 'seed: [1, 2\n');
      return d;
    }, 'resolved.yaml of'),
    bad('a run from a newer runner', () => writeFakeRun(root, { id: '20261127-100000-mlp-abc777', extra: { formatVersion: 2 } }), 'was written by a newer runner (run format 2; this runner reads up to 1)'),
  ])('rejects $name with exit code 2', ({ setup, message }) => {
    const dir = setup();
    let err: unknown;
    try {
      compareCommand({ runs: [a, dir], runsDir: root });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RunnerError);
    expect((err as RunnerError).exitCode).toBe(2);
    expect((err as RunnerError).message).toContain(message);
  });

  it('lists a folder, and refuses a file', () => {
    expect(listRuns(root).map((r) => r.id)).toContain('20261121-100000-mlp-aaa111');
    expect(() => listRuns(join(a, 'run.json'))).toThrow('is a file: give the folder that holds the run folders');
  });

  it('needs two runs', () => {
    expect(() => compareCommand({ runs: [a] })).toThrow('compare needs at least two runs, got 1');
  });

  it('finds runs by glob and by unique id prefix or hex suffix', () => {
    expect(resolveRunArgs([join(root, '2026112[12]-*')]).map((d) => d.split('/').pop())).toEqual(['20261121-100000-mlp-aaa111', '20261122-100000-mlp-bbb222']);
    expect(resolveRunArgs(['20261122'], root)).toEqual([b]);
    expect(resolveRunArgs(['aaa1'], root)).toEqual([a]);
    expect(() => resolveRunArgs(['2026112'], root)).toThrow("'2026112' is ambiguous");
  });

  it('drops a half-written last metrics line of a run in progress', () => {
    const d = writeFakeRun(root, { id: '20261128-100000-mlp-run888', status: 'running', pid: process.pid });
    writeFileSync(join(d, 'metrics.jsonl'), '{"epoch":1,"loss":0.5}\n{"epoch":2,"lo', { flag: 'w' });
    const run = readRun(d);
    expect(run.status).toBe('running');
    expect(run.metrics).toEqual([{ epoch: 1, loss: 0.5 }]);
  });

  it('flattens specs into key paths', () => {
    expect(flatten({ model: { layers: [{ dense: { units: 3 } }, { dropout: { rate: 0.1 } }] }, metrics: ['a', 'b'] })).toEqual({
      'model.layers[0].dense.units': 3, 'model.layers[1].dropout.rate': 0.1, metrics: ['a', 'b'],
    });
  });
});

describe('what ls and compare print from run.json', () => {
  const hostile = mkdtempSync(join(root, 'hostile-'));
  const plain = writeFakeRun(hostile, { id: '20261121-100000-mlp-aaa111' });
  const evil = writeFakeRun(hostile, { id: '20261122-100000-evil-bbb222', extra: { name: 'clear\u001b[2J\u202eevil', id: '../../etc/x' } });
  cpSync(plain, join(hostile, 'copy-of-aaa111'), { recursive: true });

  it('escapes control and bidi characters, and shows the folder of a run whose id is not its own', () => {
    const out = lsCommand(hostile);
    expect(out).not.toMatch(/[\u001b\u202e]/);
    expect(out).toContain('clear\\u001b[2J\\u202eevil');
    expect(out).toContain('../../etc/x (folder 20261122-100000-evil-bbb222)');
    const compared = compareCommand({ runs: [plain, evil] }).output;
    expect(compared).not.toMatch(/[\u001b\u202e]/);
    expect(compared).toContain('\\u202e');
  });

  it('tells copied run folders that share an id apart by their folder', () => {
    const out = lsCommand(hostile);
    expect(out).toContain('20261121-100000-mlp-aaa111 (folder copy-of-aaa111)');
    expect(out).toContain('20261121-100000-mlp-aaa111 (folder 20261121-100000-mlp-aaa111)');
    expect(compareCommand({ runs: [plain, join(hostile, 'copy-of-aaa111')] }).output).toContain('20261121-100000-mlp-aaa111 (copy-of-aaa111)');
  });
});
