import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { reproduceCommand } from '../../src/commands/reproduce.js';
import { runCommand } from '../../src/commands/run.js';
import { readRun } from '../../src/runs/reader.js';
import { verifyRuns } from '../../src/results/verify.js';
import { FIXTURES, readJson, interruptOn } from '../helpers.js';

const BIN = new URL('../../bin/runner.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'runner-reproduce-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const TINY = join(FIXTURES, 'tiny-mlp.yaml');

describe.each(['cpu', 'wasm'] as const)('runner reproduce --verify on %s', (backend) => {
  it('reruns into a new folder on the same backend and confirms bitwise identity', async () => {
    const original = await runCommand({ spec: TINY, set: ['train.epochs=3'], out: join(work, backend), backend });
    const warnings: string[] = [];
    const r = await reproduceCommand({ run: original.runDir, verify: true, warn: (m) => warnings.push(m) });
    expect(r.exitCode).toBe(0);
    expect(r.runDir).not.toBe(original.runDir);
    expect(r.output).toMatch(/verify: identical to .*: 3 epochs \(15 values\), \d+ test-summary values, 12,730 weights, bitwise/);
    expect(warnings.filter((w) => !w.includes('embedded') && !w.includes('download'))).toEqual([]);
    const record = readJson(join(r.runDir, 'run.json')) as { reproduces: string; backend: { used: string } };
    expect(record.reproduces).toBe(original.id);
    expect(record.backend.used).toBe(backend);
  });
});

describe('differences', () => {
  it('reports every difference, and exits 1, when resolved.yaml was changed by hand', async () => {
    const original = await runCommand({ spec: TINY, set: ['train.epochs=2'], out: join(work, 'edit'), backend: 'cpu' });
    const copy = join(work, 'edited-run');
    cpSync(original.runDir, copy, { recursive: true });
    const resolved = join(copy, 'resolved.yaml');
    writeFileSync(resolved, readFileSync(resolved, 'utf8').replace('learningRate: 0.01', 'learningRate: 0.02'));
    const warnings: string[] = [];
    const r = await reproduceCommand({ run: copy, verify: true, out: join(work, 'edit'), warn: (m) => warnings.push(m) });
    expect(r.exitCode).toBe(1);
    expect(warnings.join('\n')).toContain('resolved.yaml has been edited since the run');
    expect(warnings.join('\n')).toContain('changed: compile.optimizer.adam.learningRate 0.01 -> 0.02');
    expect(r.output).toMatch(/verify: \d+ differences beyond tolerance 0/);
    expect(r.output).toMatch(/metrics epoch 1: loss: [\d.]+ \(original\) vs [\d.]+/);
    expect(r.output).toMatch(/weights: \d+ of 12730 differ by more than 0/);
  });

  it('accepts another backend within a tolerance, warning first that the backend differs', async () => {
    const original = await runCommand({ spec: TINY, set: ['train.epochs=2'], out: join(work, 'tol'), backend: 'wasm' });
    const warnings: string[] = [];
    const strict = await reproduceCommand({ run: original.runDir, verify: true, backend: 'cpu', warn: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toContain('the original run used the wasm backend; this one asks for cpu');
    const v = verifyRuns(readRun(original.runDir), readRun(strict.runDir), 0);
    // cpu and wasm round differently: not bitwise, but close.
    expect(v.identical).toBe(false);
    expect(v.maxDiff).toBeLessThan(1e-3);
    expect(strict.exitCode).toBe(1);
    const loose = await reproduceCommand({ run: original.runDir, verify: true, backend: 'cpu', tolerance: 1e-3 });
    expect(loose.exitCode).toBe(0);
    expect(loose.output).toContain('verify: within tolerance 0.001');
  });

  it('refuses to verify a run that did not complete (CLI, exit 2)', async () => {
    const cut = await runCommand({ spec: TINY, out: join(work, 'cut'), interrupt: interruptOn(AbortSignal.abort()) });
    expect(cut.status).toBe('interrupted');
    const r = await execa('node', [BIN, 'reproduce', cut.runDir, '--verify'], { cwd: work, reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('is interrupted: only a completed run can be verified');
    expect(r.stderr).toContain('runner resume');
  });
});
