import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/commands/run.js';
import { FIXTURES, readJson, runDirOf } from '../helpers.js';

const BIN = new URL('../../bin/runner.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'runner-cache-'));
const cache = join(work, 'cache');
/** This file's own cache folder, given to every run (the environment is left as it is). */
const data = { cacheDir: cache, offline: true };
afterAll(() => rmSync(work, { recursive: true, force: true }));
const TINY = join(FIXTURES, 'tiny-mlp.yaml');
const entries = () => (existsSync(join(cache, 'stages')) ? readdirSync(join(cache, 'stages')) : []);

interface Record { cached: string[]; data: { sha256: string; source: string }; stages: { name: string; status: string; cached?: boolean }[] }
const recordOf = (dir: string) => readJson(join(dir, 'run.json')) as Record;
const weightsOf = (dir: string) => readFileSync(join(dir, 'model', 'weights.bin'));

describe('the stage cache (load and normalize)', () => {
  let first: string;
  beforeAll(async () => {
    first = (await runCommand({ data, spec: TINY, out: join(work, 'runs') })).runDir;
  });

  it('runs the data stages the first time and keeps their output', () => {
    expect(recordOf(first).cached).toEqual([]);
    expect(entries()).toHaveLength(1);
  });

  it('skips them on a second run of the same spec, which trains to the same weights', async () => {
    const second = (await runCommand({ data, spec: TINY, out: join(work, 'runs') })).runDir;
    const record = recordOf(second);
    expect(record.cached).toEqual(['load', 'normalize']);
    expect(record.stages.filter((s) => s.cached).map((s) => s.name)).toEqual(['load', 'normalize']);
    expect(record.data).toEqual(recordOf(first).data);
    expect(readFileSync(join(second, 'preprocess.json'), 'utf8')).toBe(readFileSync(join(first, 'preprocess.json'), 'utf8'));
    expect(weightsOf(second).equals(weightsOf(first))).toBe(true);
  });

  it('recomputes with --no-cache, and when the data or preprocess section changes', async () => {
    const forced = await runCommand({ data, spec: TINY, out: join(work, 'runs'), noCache: true });
    expect(recordOf(forced.runDir).cached).toEqual([]);
    const changed = await runCommand({ data, spec: TINY, set: ['data.trainLimit=200'], out: join(work, 'runs') });
    expect(recordOf(changed.runDir).cached).toEqual([]);
    expect(entries()).toHaveLength(2);
  });

  it('detects a damaged entry, says so, rebuilds it and never uses it', async () => {
    for (const entry of entries()) {
      const file = join(cache, 'stages', entry, 'arrays.bin');
      const bytes = readFileSync(file);
      bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x40;
      writeFileSync(file, bytes);
    }
    const warnings: string[] = [];
    const rebuilt = await runCommand({ data, spec: TINY, out: join(work, 'runs'), warn: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toMatch(/stage cache entry .* is damaged \(arrays.bin does not match its sha256\); rebuilding it/);
    expect(recordOf(rebuilt.runDir).cached).toEqual([]);
    expect(weightsOf(rebuilt.runDir).equals(weightsOf(first))).toBe(true);
    const later: string[] = [];
    const after = await runCommand({ data, spec: TINY, out: join(work, 'runs'), warn: (m) => later.push(m) });
    expect(recordOf(after.runDir).cached).toEqual(['load', 'normalize']);
    expect(later.join('\n')).not.toContain('damaged');
  });

  it('caches a table too, keyed by the file: touching the CSV invalidates it', async () => {
    const csv = join(work, 'table.csv');
    writeFileSync(csv, ['x,y,label', ...Array.from({ length: 60 }, (_, i) => `${i % 7},${(i * 3) % 5},${i % 2 ? 'odd' : 'even'}`)].join('\n'));
    const spec = join(work, 'table.yaml');
    writeFileSync(spec, 'data: { format: csv, path: table.csv, target: label }\npreprocess: [{ standardize: {} }]\nmodel: { layers: [{ dense: { units: 2, activation: softmax } }] }\ncompile: { loss: sparseCategoricalCrossentropy, optimizer: { adam: {} }, metrics: [accuracy] }\ntrain: { epochs: 1 }\n');
    const a = await runCommand({ data, spec, out: join(work, 'runs') });
    const b = await runCommand({ data, spec, out: join(work, 'runs') });
    expect([recordOf(a.runDir).cached, recordOf(b.runDir).cached]).toEqual([[], ['load', 'normalize']]);
    writeFileSync(csv, `${readFileSync(csv, 'utf8')}\n1,1,odd`);
    const c = await runCommand({ data, spec, out: join(work, 'runs') });
    expect(recordOf(c.runDir).cached).toEqual([]);
  });

  it('prints the data warnings again on a cached run (CLI)', async () => {
    const cli = () => execa('node', [BIN, 'run', TINY, '--out', join(work, 'cli')], { cwd: work, reject: false, env: { RUNNER_CACHE: cache } });
    await cli();
    const r = await cli();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('using the embedded fallback');
    const dir = runDirOf(r.stdout, work);
    expect(recordOf(dir).cached).toEqual(['load', 'normalize']);
  });
});
