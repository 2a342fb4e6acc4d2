import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/commands/run.js';
import { RunnerError } from '../../src/core/errors.js';
import { planRun } from '../../src/pipeline/plan.js';
import { newRecord } from '../../src/pipeline/record.js';
import { RunDir } from '../../src/runs/run-dir.js';
import { FIXTURES, readJson } from '../helpers.js';

const work = mkdtempSync(join(tmpdir(), 'runner-engine-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const data = { cacheDir: join(work, 'cache'), offline: true };
const TINY = join(FIXTURES, 'tiny-mlp.yaml');

describe('the first run.json', () => {
  it('already names the pid and host, so a run that dies at once is seen as crashed, not running', () => {
    const plan = planRun(TINY);
    const record = newRecord(RunDir.create(join(work, 'records'), 'tiny'), plan, { requested: 'cpu', used: 'cpu', skipped: [] }, {});
    expect(record.status).toBe('running');
    expect(record.pid).toBe(process.pid);
    expect(record.host?.hostname).toBe(hostname());
    expect(record.versions?.node).toBe(process.versions.node);
  });
});

describe('the run engine, in process', () => {
  it('leaves Math.random as it found it, and records pid and host from the first run.json', async () => {
    const before = Math.random;
    const outcome = await runCommand({ spec: TINY, set: ['train.epochs=1', 'model.layers.1={"dropout":{"rate":0.2}}'], out: join(work, 'runs'), backend: 'cpu', data });
    expect(outcome.status).toBe('completed');
    expect(Math.random).toBe(before);
    const record = readJson(join(outcome.runDir, 'run.json')) as { pid: number; host: { hostname: string } };
    expect(record.pid).toBe(process.pid);
    expect(record.host.hostname).toBeTruthy();
  });

  it('leaves a second Ctrl-C the exit code run.json says: 130 while it runs, the final status\'s once written', async () => {
    const handlers: (() => number)[] = [];
    const interrupt = { signal: new AbortController().signal, beforeExit: (fn: () => number) => void handlers.push(fn) };
    const outcome = await runCommand({ spec: TINY, set: ['train.epochs=1'], out: join(work, 'runs'), backend: 'cpu', data, interrupt });
    expect(outcome.status).toBe('completed');
    expect(handlers).toHaveLength(2);
    // The last one registered is what a second Ctrl-C would do now: nothing to write, exit 0 as the record says.
    expect(handlers[1]!()).toBe(0);
    expect((readJson(join(outcome.runDir, 'run.json')) as { status: string }).status).toBe('completed');
    // The first marks a running run interrupted.
    expect(handlers[0]!()).toBe(130);
    expect((readJson(join(outcome.runDir, 'run.json')) as { status: string }).status).toBe('interrupted');
  });

  it('plans before any folder exists: a table that does not fit the spec leaves --out untouched', async () => {
    writeFileSync(join(work, 't.csv'), 'a,b,label\n1,2,x\n3,4,y\n');
    writeFileSync(join(work, 't.yaml'), 'data: { format: csv, path: t.csv, target: lable }\nmodel: { layers: [{ dense: { units: 2, activation: softmax } }] }\ncompile: { loss: sparseCategoricalCrossentropy, optimizer: { adam: {} } }\n');
    const out = join(work, 'never');
    const failed = runCommand({ spec: join(work, 't.yaml'), out, data });
    await expect(failed).rejects.toBeInstanceOf(RunnerError);
    await expect(failed).rejects.toThrow('t.yaml is invalid');
    expect(() => readdirSync(out)).toThrow(/ENOENT/);
  });
});

describe('a spec value the data refuses while a stage runs', () => {
  it('fails the run at the line of the spec that sets it, in the outcome and in run.json', async () => {
    const dir = mkdtempSync(join(work, 'located-'));
    // The tiny spec with a divisor that takes pixels past float32 (line 12 of the fixture).
    writeFileSync(join(dir, 'spec.yaml'), readFileSync(TINY, 'utf8').replace('scale: { divisor: 255 }', 'scale: { divisor: 1.0e-38 }'));
    const outcome = await runCommand({ spec: join(dir, 'spec.yaml'), set: [], out: join(dir, 'runs'), backend: 'cpu', data });
    expect(outcome.status).toBe('failed');
    expect(outcome.exitCode).toBe(1);
    const at = /^preprocess\[0\]\.scale \(\S*spec\.yaml line 12, col \d+\): pixel value 4 becomes Infinity in float32/;
    expect(outcome.error?.message).toMatch(at);
    const record = readJson(join(outcome.runDir, 'run.json')) as { stages: { name: string; error?: string }[] };
    expect(record.stages.find((s) => s.name === 'normalize')?.error).toMatch(at);
  });
});
