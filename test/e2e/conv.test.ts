import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, readJson, readJsonl, runDirOf } from '../helpers.js';

const BIN = new URL('../../bin/runner.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'runner-conv-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
copyFileSync(join(FIXTURES, 'tiny-cnn.yaml'), join(work, 'cnn.yaml'));

async function run(backend: string, ...extra: string[]) {
  const r = await execa('node', [BIN, 'run', 'cnn.yaml', '--backend', backend, '--out', `runs-${backend}${extra.join('')}`, ...extra], { cwd: work, reject: false });
  const dir = r.exitCode === 0 ? runDirOf(r.stdout, work) : join(work, 'missing');
  return { r, dir };
}

describe('a conv net', () => {
  it('trains on wasm end to end, with the same numbers as on cpu', async () => {
    const [wasm, cpu] = [await run('wasm'), await run('cpu')];
    expect(wasm.r.exitCode, wasm.r.stderr).toBe(0);
    expect(cpu.r.exitCode, cpu.r.stderr).toBe(0);
    const [mw, mc] = [readJsonl(join(wasm.dir, 'metrics.jsonl')), readJsonl(join(cpu.dir, 'metrics.jsonl'))];
    expect(mw).toHaveLength(2);
    expect(mw[1]!['loss']).toBeLessThan(mw[0]!['loss']!);
    // Different kernels sum in different orders: equal to float32 round-off, amplified a little by training.
    mw.forEach((m, i) => expect(m['loss']).toBeCloseTo(mc[i]!['loss']!, 3));
    const [sw, sc] = [wasm.dir, cpu.dir].map((d) => readJson(join(d, 'summary.json')) as { accuracy: number });
    expect(Math.abs(sw!.accuracy - sc!.accuracy)).toBeLessThanOrEqual(0.02);
    const model = JSON.parse(readFileSync(join(wasm.dir, 'model', 'model.json'), 'utf8'));
    expect(model.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name)).toEqual(
      ['Conv2D', 'MaxPooling2D', 'Conv2D', 'AveragePooling2D', 'BatchNormalization', 'Flatten', 'Dense']);
  });

  it('computes bitwise the same on one wasm thread as on two, and run.json records the count', async () => {
    // Two processes, since a process's wasm thread pool is fixed when it starts.
    const [one, two] = await Promise.all([run('wasm', '--threads', '1'), run('wasm', '--threads', '2')]);
    expect(one.r.exitCode, one.r.stderr).toBe(0);
    expect(two.r.exitCode, two.r.stderr).toBe(0);
    expect(two.r.stdout).toContain('backend: wasm, 2 threads');
    const threads = (d: string) => (readJson(join(d, 'run.json')) as { backend: { threads: number } }).backend.threads;
    expect([threads(one.dir), threads(two.dir)]).toEqual([1, 2]);
    const weights = (d: string) => readFileSync(join(d, 'model', 'weights.bin'));
    expect(weights(two.dir).equals(weights(one.dir))).toBe(true);
    const metrics = (d: string) => readJsonl(join(d, 'metrics.jsonl')).map(({ seconds: _s, ...rest }) => rest);
    expect(metrics(two.dir)).toEqual(metrics(one.dir));
  });
});
