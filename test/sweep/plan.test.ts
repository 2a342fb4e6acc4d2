import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunnerError, SpecError } from '../../src/core/errors.js';
import { planSweep, resolveShard, shardOf } from '../../src/sweep/plan.js';
import { FIXTURES } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'runner-sweep-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TINY = readFileSync(join(FIXTURES, 'tiny-sweep.yaml'), 'utf8');
const write = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

function rejection(file: string): string {
  try {
    planSweep(file);
  } catch (err) {
    expect(err).toBeInstanceOf(RunnerError);
    expect((err as RunnerError).exitCode).toBe(2);
    return [(err as RunnerError).message, ...(err as RunnerError).details].join('\n');
  }
  throw new Error('expected the sweep to be rejected');
}

describe('planSweep', () => {
  it('expands a grid times seeds into trials with distinct hashes, seeds sharing a variant', () => {
    const plan = planSweep(join(FIXTURES, 'tiny-sweep.yaml'));
    expect(plan.trials).toHaveLength(4);
    expect(new Set(plan.trials.map((t) => t.hash)).size).toBe(4);
    expect(new Set(plan.trials.map((t) => t.variant)).size).toBe(2);
    expect(plan.trials.map((t) => [t.params['compile.optimizer.adam.learningRate'], t.seed])).toEqual([[0.01, 1], [0.01, 2], [0.003, 1], [0.003, 2]]);
    expect(plan.id).toMatch(/^tiny-sweep-[0-9a-f]{8}$/);
    expect(planSweep(join(FIXTURES, 'tiny-sweep.yaml'))).toEqual(plan);
  });

  it('applies --set to the spec before the parameters: other trials, another sweep folder, errors located as runner run locates them', () => {
    const file = join(FIXTURES, 'tiny-sweep.yaml');
    const plain = planSweep(file);
    const set = planSweep(file, ['train.batchSize=16']);
    expect(set.set.map((o) => o.text)).toEqual(['train.batchSize=16']);
    expect(set.trials.map((t) => t.params)).toEqual(plain.trials.map((t) => t.params));
    expect(set.trials.map((t) => t.hash).filter((h) => plain.trials.some((p) => p.hash === h))).toEqual([]);
    expect(set.id).not.toBe(plain.id);
    const rejected = (sets: string[]) => {
      try {
        planSweep(file, sets);
      } catch (err) {
        expect((err as RunnerError).exitCode).toBe(2);
        return [(err as RunnerError).message, ...(err as RunnerError).details].join('\n');
      }
      throw new Error('expected the --set to be refused');
    };
    expect(rejected(['train.epochs=-1'])).toContain('train.epochs (--set train.epochs=-1): expected an integer >= 1, got -1');
    // A swept key would be replaced by every trial's value: refused rather than ignored.
    expect(rejected(['compile.optimizer.adam.learningRate=0.5'])).toMatch(/--set compile\.optimizer\.adam\.learningRate=0\.5: compile\.optimizer\.adam\.learningRate is swept \(sweep\.parameters\.compile\.optimizer\.adam\.learningRate\)/);
    expect(rejected(['seed=5'])).toContain('--set seed=5: seed is swept (sweep.seeds)');
  });

  it('multiplies every grid parameter', () => {
    const file = write('grid.yaml', TINY.replace('compile.optimizer.adam.learningRate: [0.01, 0.003]', 'compile.optimizer.adam.learningRate: [0.01, 0.003]\n    train.batchSize: [16, 32, 64]\n    model.layers.0.dense.units: [8, 16]'));
    expect(planSweep(file).trials).toHaveLength(3 * 2 * 2 * 2);
  });

  it('samples random sweeps from its own seed, the same every time', () => {
    const text = TINY.replace('method: grid', 'method: random\n  trials: 5\n  seed: 3').replace('compile.optimizer.adam.learningRate: [0.01, 0.003]', 'compile.optimizer.adam.learningRate: { logUniform: [0.0001, 0.1] }\n    train.batchSize: { choice: [16, 32] }\n    model.layers.0.dense.units: { int: [4, 8] }');
    const plan = planSweep(write('random.yaml', text));
    expect(plan.trials).toHaveLength(10);
    for (const t of plan.trials) {
      expect(t.params['compile.optimizer.adam.learningRate']).toBeGreaterThanOrEqual(0.0001);
      expect(t.params['compile.optimizer.adam.learningRate']).toBeLessThanOrEqual(0.1);
      expect([16, 32]).toContain(t.params['train.batchSize']);
      expect(Number.isInteger(t.params['model.layers.0.dense.units'])).toBe(true);
    }
    expect(planSweep(write('random2.yaml', text)).trials.map((t) => t.params)).toEqual(plan.trials.map((t) => t.params));
    const other = planSweep(write('random3.yaml', text.replace('seed: 3', 'seed: 4')));
    expect(other.trials.map((t) => t.params)).not.toEqual(plan.trials.map((t) => t.params));
  });

  it.each([
    { name: 'an unknown key path', edit: (t: string) => t.replace('compile.optimizer.adam.learningRate:', 'compile.optimizer.adam.learningRat:'), want: "compile.optimizer.adam.learningRat (sweep.parameters.compile.optimizer.adam.learningRat (line 29)): unknown key 'learningRat'; did you mean 'learningRate'?" },
    { name: 'a value that breaks the schema', edit: (t: string) => t.replace('[0.01, 0.003]', '[0.01, -1]'), want: 'compile.optimizer.adam.learningRate (sweep.parameters.compile.optimizer.adam.learningRate (line 29)): expected a number > 0, got -1' },
    { name: 'an empty grid', edit: (t: string) => t.replace('[0.01, 0.003]', '[]'), want: 'sweep.parameters.compile.optimizer.adam.learningRate (line 29, col 42): expected at least 1 item(s), got 0' },
    { name: 'a range in a grid', edit: (t: string) => t.replace('[0.01, 0.003]', '{ uniform: [0.001, 0.01] }'), want: 'method grid takes a list of values' },
    { name: 'a path into a list that is too short', edit: (t: string) => t.replace('compile.optimizer.adam.learningRate:', 'model.layers.5.dense.units:').replace('[0.01, 0.003]', '[4]'), want: 'has 2 items; index 5 is out of range' },
    { name: 'no sweep block', edit: (t: string) => t.slice(0, t.indexOf('sweep:\n')), want: 'has no sweep: block' },
  ])('rejects $name before any trial starts', ({ edit, want }) => {
    expect(rejection(write('bad.yaml', edit(TINY)))).toContain(want);
  });
});

describe('sharding', () => {
  it('splits trials by hash into shards of about equal size', () => {
    // 3,000 hashes of the kind trials have: every shard gets a fair share, none is empty or double.
    const hashes = Array.from({ length: 3000 }, (_, i) => createHash('sha256').update(String(i)).digest('hex').slice(0, 12));
    for (const n of [2, 3, 5]) {
      const sizes = new Array<number>(n).fill(0);
      for (const h of hashes) sizes[shardOf(h, n) - 1]!++;
      for (const size of sizes) expect(Math.abs(size - 3000 / n)).toBeLessThan((3000 / n) * 0.15);
    }
    expect(new Set(hashes.map((h) => shardOf(h, 1)))).toEqual(new Set([1]));
  });

  it.each([
    { env: { CI_NODE_INDEX: '2', CI_NODE_TOTAL: '3' }, want: { index: 2, total: 3 } },
    { env: { CIRCLE_NODE_INDEX: '0', CIRCLE_NODE_TOTAL: '2' }, want: { index: 1, total: 2 } },
    { env: { BUILDKITE_PARALLEL_JOB: '1', BUILDKITE_PARALLEL_JOB_COUNT: '2' }, want: { index: 2, total: 2 } },
    { env: { JOB_COMPLETION_INDEX: '3' }, shards: 4, want: { index: 4, total: 4 } },
    { env: {}, want: undefined },
  ])('reads the shard from CI variables: $env', ({ env, shards, want }) => {
    expect(resolveShard(undefined, shards, env)).toEqual(want);
  });

  it('prefers --shard to the environment', () => {
    expect(resolveShard('1/2', undefined, { CI_NODE_INDEX: '2', CI_NODE_TOTAL: '2' })).toEqual({ index: 1, total: 2 });
  });

  it.each([
    { flag: '3/2', want: '--shard: shard 3/2 does not exist' },
    { flag: '0/2', want: 'shard 0/2 does not exist' },
    { flag: 'two', want: "--shard 'two': expected i/N" },
  ])('rejects --shard $flag', ({ flag, want }) => {
    expect(() => resolveShard(flag, undefined, {})).toThrow(want);
  });

  it('needs --shards for a Kubernetes Indexed Job', () => {
    expect(() => resolveShard(undefined, undefined, { JOB_COMPLETION_INDEX: '0' })).toThrow('give the number of shards with --shards N');
  });
});

describe('planSweep with a scheduler', () => {
  const ASHA = readFileSync(join(FIXTURES, 'tiny-asha.yaml'), 'utf8');
  const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

  it('plans every trial for max epochs (its schedules computed against max) and keeps the trials in order', () => {
    const plan = planSweep(join(FIXTURES, 'tiny-asha.yaml'));
    expect(plan.scheduler).toEqual({ kind: 'asha', min: 1, max: 9, eta: 3 });
    expect(plan.trials).toHaveLength(9);
    for (const t of plan.trials) expect(t.overrides.at(-1)).toMatchObject({ text: 'train.epochs=9', source: 'sweep.scheduler.asha.max' });
  });

  it.each([
    { change: ['validationSplit: 0.2', 'validationSplit: 0'], key: 'data.validationSplit', line: 'validationSplit', want: 'ranks trials on validation data' },
    { change: ['name: best.val_accuracy', 'name: test.accuracy'], key: 'sweep.metric.name', line: 'name: test.accuracy', want: "not 'test.accuracy'; test scores must not choose models" },
    { change: ['min: 1, max: 9', 'min: 9, max: 9'], key: 'sweep.scheduler.asha.min', line: 'asha:', want: 'min (9) must be below max (9)' },
    { change: ['metrics: [accuracy]', 'metrics: []'], key: 'compile.metrics', line: 'metrics: []', want: 'needs accuracy among compile.metrics' },
    { change: ['model.layers.0.dense.units: [8, 16, 32]', 'train.epochs: [3, 9]'], key: 'sweep.parameters.train.epochs', line: 'train.epochs: [3, 9]', want: 'sets train.epochs' },
    { change: ['reductionFactor: 3', 'reductionFactor: 1'], key: 'sweep.scheduler.asha.reductionFactor', line: 'reductionFactor', want: '>= 2' },
    { change: ['asha: {', 'asha: { resource: train.steps,'], key: 'sweep.scheduler.asha.resource', line: 'resource', want: 'train.epochs' },
  ])('refuses $key at its line', ({ change, key, line, want }) => {
    const text = ASHA.replace(change[0]!, change[1]!);
    expect(text).not.toBe(ASHA);
    const message = rejection(write('bad-asha.yaml', text));
    expect(message).toContain(`${key} (line ${lineOf(text, line)}`);
    expect(message).toContain(want);
  });

  it('refuses --set train.epochs: the scheduler sets it', () => {
    expect(() => planSweep(join(FIXTURES, 'tiny-asha.yaml'), ['train.epochs=3'])).toThrow(SpecError);
    try {
      planSweep(join(FIXTURES, 'tiny-asha.yaml'), ['train.epochs=3']);
    } catch (err) {
      expect((err as SpecError).details.join('\n')).toContain('train.epochs (--set train.epochs=3): the asha scheduler sets train.epochs to its max (9)');
    }
  });
});
