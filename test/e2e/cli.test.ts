import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadModel } from '../../src/model/io.js';
import { loadSpec } from '../../src/spec/load.js';
import { FIXTURES, readJson, readJsonl, runDirOf as runDirFrom, tinyContext } from '../helpers.js';

const BIN = new URL('../../bin/runner.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'runner-e2e-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The built CLI, run in a temp folder as a user would. */
function runner(args: string[], cwd = work) {
  // A cache of this file's own: the first run here reads and prepares the data itself.
  return execa('node', [BIN, ...args], { cwd, reject: false, env: { NO_COLOR: '1', RUNNER_CACHE: join(work, 'cache') } });
}

function runsIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((d) => d !== '.gitkeep').sort() : [];
}

/** The run folder a `runner run` here printed on its last line. */
const runDirOf = (stdout: string, cwd = work) => runDirFrom(stdout, cwd);

beforeAll(() => {
  copyFileSync(join(FIXTURES, 'tiny-mlp.yaml'), join(work, 'tiny.yaml'));
});

/** Whether @tensorflow/tfjs-node loads here (it cannot install on these machines; a machine that has it tests it). */
const TFJS_NODE = (() => {
  try {
    createRequire(import.meta.url)('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();
if (!TFJS_NODE) console.info('tfjs-node does not load here: its own test is skipped, the exit-2 test runs');

describe('runner run (end to end)', () => {
  let result: Awaited<ReturnType<typeof runner>>;
  let dir: string;
  beforeAll(async () => {
    result = await runner(['run', 'tiny.yaml', '--set', 'train.epochs=3']);
    dir = runDirOf(result.stdout);
  });

  it('exits 0 and prints the test metrics and the run folder', () => {
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^test: loss \d\.\d{4} {2}accuracy \d\.\d{4} {2}\(100 examples\)$/m);
    expect(result.stdout).toMatch(/run: runs\/\d{8}-\d{6}-tiny-mlp-[0-9a-f]{6} \(status: completed, backend: cpu\)/);
    // Not a TTY here: one plain line per epoch, and the embedded-data warning.
    expect(result.stderr.match(/^epoch \d\/3 {2}loss/gm)).toHaveLength(3);
    expect(result.stderr).toContain('warning: full MNIST not found');
  });

  it('writes the spec as given and as resolved', () => {
    expect(readFileSync(join(dir, 'spec.yaml'), 'utf8')).toBe(readFileSync(join(work, 'tiny.yaml'), 'utf8'));
    const resolved = parse(readFileSync(join(dir, 'resolved.yaml'), 'utf8'));
    expect(resolved.train).toEqual({ epochs: 3, batchSize: 32, shuffle: true, checkpoint: 1 });
    // resolved.yaml is itself a valid spec that means the same thing.
    expect(loadSpec(join(dir, 'resolved.yaml')).spec).toEqual(resolved);
  });

  it('records the run in run.json: status, stages, seed, backend, versions, host and data', () => {
    const run = readJson(join(dir, 'run.json')) as Record<string, any>;
    expect(run).toMatchObject({ formatVersion: 1, name: 'tiny-mlp', status: 'completed', seed: 7, backend: { requested: 'cpu', used: 'cpu', threads: 1 } });
    expect(run['id']).toBe(dir.split('/').pop());
    expect(run['stages'].map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual(
      ['load:done', 'normalize:done', 'build:done', 'compile:done', 'fit:done', 'evaluate:done']);
    // Stages start in plan order and their times fit inside the run's.
    const stages = run['stages'] as { name: string; startedAt: string; durationMs: number }[];
    const starts = stages.map((s) => Date.parse(s.startedAt));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(stages.reduce((a, s) => a + s.durationMs, 0)).toBeLessThanOrEqual(run['durationMs']);
    expect(stages.find((s) => s.name === 'fit')!.durationMs).toBeGreaterThan(0);
    expect(run['versions']).toEqual({ runner: '0.1.0', node: process.versions.node, tfjs: tf.version.tfjs });
    expect(run['spec']).toEqual({ file: 'tiny.yaml', dir: work, overrides: ['train.epochs=3'] });
    expect(run['host'].cores).toBeGreaterThan(0);
    expect(run['data']).toMatchObject({ dataset: 'mnist', source: 'embedded', counts: { train: 240, validation: 60, test: 100 } });
    expect(Date.parse(run['endedAt'])).toBeGreaterThanOrEqual(Date.parse(run['startedAt']));
    expect(run['git']).toBeNull();
  });

  it('writes metrics.jsonl, summary.json and a pino log', () => {
    const metrics = readJsonl(join(dir, 'metrics.jsonl'));
    expect(metrics.map((m) => m['epoch'])).toEqual([1, 2, 3]);
    const summary = readJson(join(dir, 'summary.json')) as { accuracy: number; loss: number; confusionMatrix: { matrix: number[][] } };
    expect(summary.confusionMatrix.matrix).toHaveLength(10);
    const events = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { msg: string; level: number });
    expect(events.map((e) => e.msg)).toEqual(expect.arrayContaining(['run started', 'data loaded', 'epoch end', 'evaluated on the test split', 'run ended']));
    expect(events.find((e) => e.level === 40)?.msg).toContain('embedded fallback');
  });

  it('saves a model whose test accuracy, reloaded, is the run’s own', async () => {
    await tf.setBackend('cpu');
    const model = await loadModel(join(dir, 'model'));
    model.compile({ loss: 'categoricalCrossentropy', optimizer: 'adam', metrics: ['accuracy'] });
    // Rebuild the same test split through the same stages, in this process.
    const ctx = tinyContext();
    const { load } = await import('../../src/stages/load.js');
    const { normalize } = await import('../../src/stages/normalize.js');
    const { evaluateSplit } = await import('../../src/train/batches.js');
    const prepared = await normalize.run({ load: await load.run({}, ctx) }, ctx);
    const [loss, accuracy] = await evaluateSplit(model, prepared.test, [784], [10], 256);
    const summary = readJson(join(dir, 'summary.json')) as { accuracy: number; loss: number };
    expect(accuracy).toBeCloseTo(summary.accuracy, 6);
    expect(loss).toBeCloseTo(summary.loss, 5);
  });
});

describe('determinism', () => {
  it.each(['cpu', 'wasm'])('gives identical metrics and weights for the same spec, seed and backend (%s)', async (backend) => {
    const out = join(work, `det-${backend}`);
    const runs = [];
    for (const seed of [7, 7, 8]) {
      const r = await runner(['run', 'tiny.yaml', '--out', out, '--backend', backend, '--set', `seed=${seed}`]);
      expect(r.exitCode, r.stderr).toBe(0);
      const d = runDirOf(r.stdout);
      // Wall-clock seconds differ run to run; every learned number must not.
      const metrics = readJsonl(join(d, 'metrics.jsonl')).map(({ seconds: _s, ...rest }) => rest);
      runs.push({ metrics, weights: readFileSync(join(d, 'model', 'weights.bin')), backend: (readJson(join(d, 'run.json')) as { backend: { used: string } }).backend.used });
    }
    expect(runs.map((r) => r.backend)).toEqual([backend, backend, backend]);
    expect(runs[1]!.metrics).toEqual(runs[0]!.metrics);
    expect(runs[1]!.weights.equals(runs[0]!.weights)).toBe(true);
    expect(runs[2]!.weights.equals(runs[0]!.weights)).toBe(false);
  });
});

describe('bad input', () => {
  const cases = [
    { name: 'a misspelled key', args: ['run', 'bad.yaml'], text: (t: string) => t.replace('epochs: 2', 'epoch: 2'), fragments: ['bad.yaml is invalid (1 problem)', "train.epoch (line 26, col 3): unknown key 'epoch'; did you mean 'epochs'?"] },
    { name: 'a negative number', args: ['run', 'bad.yaml'], text: (t: string) => t.replace('trainLimit: 300', 'trainLimit: -300'), fragments: ['data.trainLimit (line 9, col 15): expected an integer >= 1, got -300'] },
    { name: 'malformed YAML', args: ['run', 'bad.yaml'], text: () => 'model: {layers: [\n', fragments: ['bad.yaml is invalid', 'line 2'] },
    { name: 'a missing spec file', args: ['run', 'missing.yaml'], text: undefined, fragments: ["cannot read spec 'missing.yaml': no such file"] },
    { name: 'a bad --set', args: ['run', 'bad.yaml', '--set', 'train.epochs=-1'], text: (t: string) => t, fragments: ['train.epochs (--set train.epochs=-1): expected an integer >= 1, got -1'] },
    { name: 'a --set without =', args: ['run', 'bad.yaml', '--set', 'train.epochs'], text: (t: string) => t, fragments: ["--set 'train.epochs': expected key.path=value"] },
    { name: 'an unknown backend', args: ['run', 'bad.yaml', '--backend', 'gpu'], text: (t: string) => t, fragments: ["argument 'gpu' is invalid", 'auto, tensorflow, wasm, cpu'] },
    { name: 'a --threads out of range', args: ['run', 'bad.yaml', '--threads', '0'], text: (t: string) => t, fragments: ["option '--threads <n>' argument '0' is invalid", "expected auto or a whole number from 1 to 8, got '0'"] },
    { name: 'spec threads out of range', args: ['run', 'bad.yaml'], text: (t: string) => `threads: 12\n${t}`, fragments: ['threads (line 1, col 10)', '12'] },
    { name: 'an unknown command', args: ['trian', 'bad.yaml'], text: (t: string) => t, fragments: ["unknown command 'trian'"] },
    { name: 'an --out that is a file', args: ['run', 'bad.yaml', '--out', 'bad.yaml'], text: (t: string) => t, fragments: ["cannot create a run folder in 'bad.yaml'"] },
  ];

  it.each(cases)('exits 2 on $name, says where, and leaves no run folder', async ({ args, text, fragments }) => {
    const cwd = mkdtempSync(join(work, 'bad-'));
    if (text) writeFileSync(join(cwd, 'bad.yaml'), text(readFileSync(join(FIXTURES, 'tiny-mlp.yaml'), 'utf8')));
    const r = await runner(args, cwd);
    expect(r.exitCode).toBe(2);
    for (const f of fragments) expect(r.stderr).toContain(f);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(runsIn(join(cwd, 'runs'))).toEqual([]);
  });

  it.runIf(!TFJS_NODE)('exits 2 when tfjs-node is asked for and cannot load', async () => {
    const r = await runner(['run', 'tiny.yaml', '--backend', 'tensorflow', '--out', join(work, 'tf-runs')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("backend 'tensorflow' is not available: @tensorflow/tfjs-node does not load");
    expect(runsIn(join(work, 'tf-runs'))).toEqual([]);
  });

  it.runIf(TFJS_NODE)('runs on tfjs-node when it is installed and asked for', async () => {
    const r = await runner(['run', 'tiny.yaml', '--backend', 'tensorflow', '--out', join(work, 'tf-node-runs')]);
    expect(r.exitCode, r.stderr).toBe(0);
    const [dir] = runsIn(join(work, 'tf-node-runs'));
    expect((readJson(join(work, 'tf-node-runs', dir!, 'run.json')) as { backend: { used: string } }).backend.used).toBe('tensorflow');
  });

  it('exits 1 when a stage fails, marks the run failed and skips what depended on it', async () => {
    const cwd = mkdtempSync(join(work, 'fail-'));
    mkdirSync(join(cwd, 'data'));
    for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      writeFileSync(join(cwd, 'data', f), 'not an idx file');
    }
    const spec = readFileSync(join(FIXTURES, 'tiny-mlp.yaml'), 'utf8').replace('dataset: mnist', 'dataset: mnist\n  path: data');
    writeFileSync(join(cwd, 'broken.yaml'), spec);
    const r = await runner(['run', 'broken.yaml'], cwd);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("runner: stage 'load' failed:");
    expect(r.stderr).toContain('train-images-idx3-ubyte is not an IDX file: bad magic number');
    expect(r.stderr).toContain('skipped: normalize, build, compile, fit, evaluate');
    const [id] = runsIn(join(cwd, 'runs'));
    const run = readJson(join(cwd, 'runs', id!, 'run.json')) as { status: string; error: { stage: string }; stages: { status: string }[] };
    expect(run.status).toBe('failed');
    expect(run.error.stage).toBe('load');
    expect(run.stages.map((s) => s.status)).toEqual(['failed', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped']);
    expect(existsSync(join(cwd, 'runs', id!, 'summary.json'))).toBe(false);
  });
});

describe('runner validate', () => {
  it('checks a spec without running it', async () => {
    const r = await runner(['validate', 'tiny.yaml']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('tiny.yaml is valid');
  });

  it('prints the resolved spec with --print, overrides applied', async () => {
    const r = await runner(['validate', 'tiny.yaml', '--print', '--set', 'train.batchSize=64']);
    expect(r.exitCode).toBe(0);
    expect(parse(r.stdout).train).toEqual({ epochs: 2, batchSize: 64, shuffle: true, checkpoint: 1 });
  });

  it('validates the shipped experiments', async () => {
    const experiments = new URL('../../experiments/', import.meta.url).pathname;
    for (const f of readdirSync(experiments).filter((f) => f.endsWith('.yaml'))) {
      const r = await runner(['validate', join(experiments, f)]);
      expect(r.exitCode, `${f}: ${r.stderr}`).toBe(0);
    }
  });
});
