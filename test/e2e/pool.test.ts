import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRun } from '../../src/runs/reader.js';
import { planRun } from '../../src/pipeline/plan.js';
import { specHash } from '../../src/spec/hash.js';
import { WorkerPool } from '../../src/sweep/pool.js';
import { FIXTURES } from '../helpers.js';

// The pool forks bin/runner.js, which runs the compiled dist/: `npm run build` first (npm test does).
const work = mkdtempSync(join(tmpdir(), 'runner-pool-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// A sweep folder whose sweep.json lists the tiny spec's one-epoch run as trials a1, a2, ... (each its own run).
const SETS = ['train.epochs=1'];
const HASH = specHash(planRun(join(FIXTURES, 'tiny-mlp.yaml'), SETS).spec);
const sweepDir = (name: string) => {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify({ id: name, metric: { name: 'final.val_accuracy', goal: 'maximize' }, trials: [{ trial: HASH, params: {} }] }));
  return dir;
};
const trial = (out: string, log: string) => ({ hash: HASH, spec: join(FIXTURES, 'tiny-mlp.yaml'), sets: SETS, out, log: join(work, `${log}.log`), cores: 1, backend: 'cpu' as const });
const logOf = (name: string) => readFileSync(join(work, `${name}.log`), 'utf8');
const exited = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

describe('WorkerPool', () => {
  it('ends a trial whose worker is killed as it starts as died, and goes on with a new worker', async () => {
    const pool = new WorkerPool(join(work, 'logs-a'));
    const out = sweepDir('a');
    try {
      const first = pool.run(trial(out, 'a1'));
      // Ctrl-C to a process group reaches a worker before Node has even loaded: nothing may read the trial.
      process.kill(pool.pids[0]!, 'SIGKILL');
      expect(await first).toEqual({ type: 'died', code: null, signal: 'SIGKILL' });
      const second = await pool.run(trial(out, 'a2'));
      expect(second, logOf('a2')).toMatchObject({ type: 'done', exitCode: 0 });
      expect(pool.pids).toHaveLength(2);
      expect(readRun((second as { runDir: string }).runDir).status).toBe('completed');
    } finally {
      pool.close();
    }
  });

  it('does not hand a trial to an idle worker that has died; one killed the moment it is picked ends its trial as died', { timeout: 30_000 }, async () => {
    const pool = new WorkerPool(join(work, 'logs-b'));
    const out = sweepDir('b');
    try {
      expect((await pool.run(trial(out, 'b1'))).type).toBe('done');
      const [idle] = pool.pids;
      process.kill(idle!, 'SIGKILL');
      while (!exited(idle!)) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100));
      expect((await pool.run(trial(out, 'b2'))).type).toBe('done');
      expect(pool.pids).toHaveLength(2);
      // Killed and picked in the same tick: the pool cannot know yet, and the trial must still end.
      process.kill(pool.pids[1]!, 'SIGKILL');
      expect(await pool.run(trial(out, 'b3'))).toMatchObject({ type: 'died', signal: 'SIGKILL' });
    } finally {
      pool.close();
    }
  });
});
