import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { toJson } from '../../src/core/files.js';
import { RunDir, timestamp } from '../../src/runs/run-dir.js';

const out = mkdtempSync(join(tmpdir(), 'runner-rundir-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('RunDir', () => {
  it('names folders <YYYYMMDD-HHMMSS>-<name>-<6 hex>, unique within the same second', () => {
    const now = new Date(2026, 10, 26, 14, 22, 33);
    const dirs = Array.from({ length: 50 }, () => RunDir.create(out, 'mnist-mlp', now));
    expect(new Set(dirs.map((d) => d.id)).size).toBe(50);
    for (const d of dirs) expect(d.id).toMatch(/^20261126-142233-mnist-mlp-[0-9a-f]{6}$/);
    expect(timestamp(now)).toBe('20261126-142233');
  });

  it('never gives two processes starting in the same second the same folder', async () => {
    const shared = join(out, 'parallel');
    const script = `import { RunDir } from ${JSON.stringify(new URL('../../dist/runs/run-dir.js', import.meta.url).href)};
      const now = new Date(2026, 10, 26, 9, 0, 0);
      for (let i = 0; i < 25; i++) RunDir.create(${JSON.stringify(shared)}, 'trial', now);`;
    await Promise.all(Array.from({ length: 8 }, () => execa('node', ['--input-type=module', '-e', script])));
    const dirs = readdirSync(shared);
    expect(dirs).toHaveLength(200);
    expect(dirs.every((d) => /^20261126-090000-trial-[0-9a-f]{6}$/.test(d))).toBe(true);
  });

  it('writes files atomically and leaves no temporary files behind', () => {
    const dir = RunDir.create(out, 'atomic');
    dir.writeJson('run.json', { status: 'running' });
    dir.writeJson('run.json', { status: 'completed' });
    dir.write('model/weights.bin', new Uint8Array([1, 2, 3]));
    dir.appendJsonl('metrics.jsonl', { epoch: 1 });
    dir.appendJsonl('metrics.jsonl', { epoch: 2 });
    expect(JSON.parse(readFileSync(dir.file('run.json'), 'utf8'))).toEqual({ status: 'completed' });
    expect(readFileSync(dir.file('metrics.jsonl'), 'utf8')).toBe('{"epoch":1}\n{"epoch":2}\n');
    expect(readdirSync(dir.path).sort()).toEqual(['metrics.jsonl', 'model', 'run.json']);
    expect(readdirSync(dir.file('model'))).toEqual(['weights.bin']);
  });

  it('continues a JSON-lines file of a folder opened again (resume) instead of erasing it', () => {
    const first = RunDir.create(out, 'reopened');
    first.appendJsonl('metrics.jsonl', { epoch: 1 });
    const again = RunDir.open(first.path);
    again.appendJsonl('metrics.jsonl', { epoch: 2 });
    expect(readFileSync(again.file('metrics.jsonl'), 'utf8')).toBe('{"epoch":1}\n{"epoch":2}\n');
  });

  it('keeps lists of plain values on one line in JSON', () => {
    expect(toJson({ m: [[1, 2], [3, 4]], s: ['a]', 'b'] })).toBe('{\n  "m": [\n    [1, 2],\n    [3, 4]\n  ],\n  "s": ["a]", "b"]\n}');
    expect(JSON.parse(toJson({ s: ['[x', 'y]'], o: [{ a: [1] }] }))).toEqual({ s: ['[x', 'y]'], o: [{ a: [1] }] });
  });
});
