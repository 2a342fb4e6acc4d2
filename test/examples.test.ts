import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/runner.js');
const out = mkdtempSync(join(tmpdir(), 'runner-examples-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Every runner command line in the deployment examples: compose services' commands, pods' args. */
function commands(): string[][] {
  const found: string[][] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if ((k === 'command' || k === 'args') && Array.isArray(v) && (v[0] === 'sweep' || v[0] === 'worker')) found.push(v.map(String));
        else walk(v);
      }
    }
  };
  for (const file of ['examples/docker-compose.yml', 'examples/kubernetes/sweep.yaml']) {
    const docs = parseAllDocuments(readFileSync(join(ROOT, file), 'utf8'));
    for (const doc of docs) {
      expect(doc.errors, file).toEqual([]);
      walk(doc.toJS());
    }
  }
  return found;
}

describe('the deployment examples', () => {
  const lines = commands();

  it('run a coordinator and workers on the same Redis and the same sweep folder', () => {
    const sweeps = lines.filter((c) => c[0] === 'sweep');
    const workers = lines.filter((c) => c[0] === 'worker');
    expect(sweeps).toHaveLength(2);
    expect(workers).toHaveLength(2);
    for (const c of [...sweeps, ...workers]) expect(c[c.indexOf('--queue') + 1]).toMatch(/^redis:\/\/[\w-]+:6379$/);
    for (const s of sweeps) expect(s[s.indexOf('--out') + 1]).toBe('/runs');
  });

  it('name a spec and options runner accepts (checked with --dry-run, the image\'s /app being this repository)', async () => {
    for (const c of lines.filter((x) => x[0] === 'sweep')) {
      // --dry-run plans the sweep and stops before Redis is reached.
      const args = c.map((a) => (a === '/runs' ? out : a.replace(/^\/app\//, ROOT)));
      const r = await execa('node', [BIN, ...args, '--dry-run'], { reject: false });
      expect(r.exitCode, r.stderr).toBe(0);
    }
    const help = (await execa('node', [BIN, 'worker', '--help'])).stdout;
    for (const c of lines.filter((x) => x[0] === 'worker')) for (const flag of c.filter((a) => a.startsWith('-'))) expect(help).toContain(flag);
  });
});
