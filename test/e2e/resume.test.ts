import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { resumeCommand } from '../../src/commands/resume.js';
import { runCommand } from '../../src/commands/run.js';
import type { RunOutcome } from '../../src/pipeline/run.js';
import { silentProgress } from '../../src/stages/stage.js';
import { RunnerError } from '../../src/core/errors.js';
import { RunLock } from '../../src/runs/lock.js';
import type { Progress } from '../../src/stages/stage.js';
import { epochLineValues, FIXTURES, interruptOn, onLine, readJson } from '../helpers.js';

const BIN = new URL('../../bin/runner.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'runner-resume-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const TINY = join(FIXTURES, 'tiny-mlp.yaml');

/** metrics.jsonl without the timings, which no two runs share. */
function curves(dir: string): Record<string, number>[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const { seconds: _s, ...rest } = JSON.parse(l) as Record<string, number>;
    return rest;
  });
}

/** Everything a finished run computed: per-epoch values, test summary, and the weights' bytes. */
function results(dir: string) {
  const { ...summary } = readJson(join(dir, 'summary.json')) as Record<string, unknown>;
  return { curves: curves(dir), summary, weights: readFileSync(join(dir, 'model', 'weights.bin')) };
}

/** A progress that aborts the run once epoch `epoch` has trained `batches` batches (0: at the end of the epoch before). */
function abortAt(epoch: number, batches: number, controller: AbortController): Progress {
  let current = 0;
  return {
    epochStart: (e) => (current = e),
    batch: (done) => {
      if (current === epoch && done === batches) controller.abort();
    },
    epochEnd: (e) => {
      if (batches === 0 && e === epoch - 1) controller.abort();
    },
  };
}

// Every piece of training state at once: momentum slots, dropout, a schedule, early stopping keeping its best weights.
const SET = [
  'train.epochs=4',
  'train.lrSchedule={"stepDecay":{"every":2,"factor":0.5}}',
  'train.earlyStopping={"monitor":"val_loss","patience":3,"restoreBestWeights":true}',
];

describe.each(['cpu', 'wasm'] as const)('interrupt and resume on %s', (backend) => {
  const out = join(work, backend);
  let whole: RunOutcome;

  it.each([
    { name: 'mid-epoch', epoch: 2, batches: 3, optimizer: [] as string[] },
    { name: 'at an epoch boundary', epoch: 3, batches: 0, optimizer: [] as string[] },
    { name: 'mid-epoch with SGD and Nesterov momentum', epoch: 3, batches: 5, optimizer: ['compile.optimizer={"sgd":{"learningRate":0.1,"momentum":0.9,"nesterov":true}}'] },
  ])('ends $name exactly as the uninterrupted run', async ({ epoch, batches, optimizer }) => {
    const set = [...SET, ...optimizer];
    whole = await runCommand({ spec: TINY, set, out, backend, progress: silentProgress });
    expect(whole.status).toBe('completed');
    const controller = new AbortController();
    const cut = await runCommand({ spec: TINY, set, out, backend, progress: abortAt(epoch, batches, controller), interrupt: interruptOn(controller.signal) });
    expect(cut.status).toBe('interrupted');
    expect(cut.exitCode).toBe(130);
    const state = readJson(join(cut.runDir, 'checkpoint', 'state.json')) as { reason: string; cursor: { epoch: number; step: number } };
    expect(state).toMatchObject({ reason: 'interrupt', cursor: { epoch, step: batches } });
    expect(curves(cut.runDir)).toHaveLength(epoch - 1);

    const resumed = await resumeCommand({ run: cut.runDir, progress: silentProgress });
    expect(resumed.status).toBe('completed');
    const [a, b] = [results(whole.runDir), results(resumed.runDir)];
    expect(b.curves).toEqual(a.curves);
    expect(b.weights.equals(a.weights)).toBe(true);
    expect(b.summary).toEqual(a.summary);
    const record = readJson(join(resumed.runDir, 'run.json')) as { status: string; resumes: { epoch: number; batch: number }[] };
    expect(record.status).toBe('completed');
    expect(record.resumes).toEqual([expect.objectContaining({ epoch, batch: batches })]);
  });
});

describe('checkpoints', () => {
  const out = join(work, 'policy');

  it('writes none with train.checkpoint none, and resume then says there is nothing to resume from (exit 2)', async () => {
    const controller = new AbortController();
    const cut = await runCommand({ spec: TINY, set: ['train.checkpoint=none', 'train.epochs=3'], out, progress: abortAt(2, 2, controller), interrupt: interruptOn(controller.signal) });
    expect(cut.status).toBe('interrupted');
    expect(existsSync(join(cut.runDir, 'checkpoint'))).toBe(false);
    const err = await resumeCommand({ run: cut.runDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunnerError);
    expect((err as RunnerError).exitCode).toBe(2);
    expect((err as RunnerError).message).toContain('has no checkpoint to resume from');
  });

  it('keeps only the latest checkpoint, every N epochs', async () => {
    const run = await runCommand({ spec: TINY, set: ['train.checkpoint=2', 'train.epochs=5'], out });
    const files = readdirSync(join(run.runDir, 'checkpoint'));
    expect(files.filter((f) => f.startsWith('arrays-'))).toHaveLength(1);
    expect((readJson(join(run.runDir, 'checkpoint', 'state.json')) as { cursor: { epoch: number } }).cursor.epoch).toBe(5);
  });

  it('refuses a damaged checkpoint and a completed run, naming what is wrong', async () => {
    const controller = new AbortController();
    const cut = await runCommand({ spec: TINY, set: ['train.epochs=3'], out, progress: abortAt(2, 2, controller), interrupt: interruptOn(controller.signal) });
    const dir = join(cut.runDir, 'checkpoint');
    const arrays = readdirSync(dir).find((f) => f.startsWith('arrays-'))!;
    const bytes = readFileSync(join(dir, arrays));
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(join(dir, arrays), bytes);
    await expect(resumeCommand({ run: cut.runDir })).rejects.toThrow('does not match its sha256');
    const done = await runCommand({ spec: TINY, out });
    await expect(resumeCommand({ run: done.runDir })).rejects.toThrow('has already completed');
  });
});

describe('a checkpoint state.json edited by hand', () => {
  const stateOf = (dir: string) => join(dir, 'checkpoint', 'state.json');
  it.each([
    { name: 'an epoch far past the end', edit: (st: Record<string, any>) => void (st['cursor'].epoch = 1e9), want: 'does not match its sha256 (edited by hand?)' },
    { name: 'an arrays file outside the folder (format 1, no hash)', edit: (st: Record<string, any>) => Object.assign(st, { formatVersion: 1, stateSha256: undefined, arraysFile: '../../../x.bin' }), want: 'arraysFile "../../../x.bin" is not an arrays file of this folder' },
    { name: 'an entry beyond the arrays (format 1)', edit: (st: Record<string, any>) => Object.assign(st, { formatVersion: 1, stateSha256: undefined, entries: [{ ...st['entries'][0], offset: 2 ** 40 }] }), want: 'lies outside the' },
    { name: 'a negative epoch (format 1)', edit: (st: Record<string, any>) => Object.assign(st, { formatVersion: 1, stateSha256: undefined, cursor: { ...st['cursor'], epoch: -5 } }), want: 'cursor must hold an epoch >= 1' },
  ])('is refused with exit 2: $name', async ({ edit, want }) => {
    const controller = new AbortController();
    const cut = await runCommand({ spec: TINY, set: ['train.epochs=3'], out: join(work, 'edited'), progress: abortAt(2, 2, controller), interrupt: interruptOn(controller.signal) });
    const state = readJson(stateOf(cut.runDir)) as Record<string, any>;
    edit(state);
    writeFileSync(stateOf(cut.runDir), JSON.stringify(state));
    const attempt = resumeCommand({ run: cut.runDir });
    await expect(attempt).rejects.toBeInstanceOf(RunnerError);
    await expect(attempt).rejects.toThrow(want);
  });
});

describe('a Ctrl-C after the last epoch', () => {
  it('stops before evaluate: the run is interrupted (exit 130, no summary), and resume scores it as a run never stopped would', async () => {
    const out = join(work, 'late');
    const set = ['train.epochs=2'];
    const whole = await runCommand({ spec: TINY, set, out });
    const controller = new AbortController();
    const cut = await runCommand({ spec: TINY, set, out, progress: abortAt(3, 0, controller), interrupt: interruptOn(controller.signal) });
    expect([cut.status, cut.exitCode]).toEqual(['interrupted', 130]);
    expect(cut.stages.find((s) => s.name === 'evaluate')).toMatchObject({ status: 'failed', error: 'interrupted before this stage started' });
    expect(existsSync(join(cut.runDir, 'summary.json'))).toBe(false);
    const resumed = await resumeCommand({ run: cut.runDir });
    expect(resumed.status).toBe('completed');
    expect(results(cut.runDir)).toEqual(results(whole.runDir));
  });
});

describe('the run folder lock', () => {
  const interrupted = async (name: string) => {
    const controller = new AbortController();
    const cut = await runCommand({ spec: TINY, set: ['train.epochs=3'], out: join(work, name), progress: abortAt(2, 2, controller), interrupt: interruptOn(controller.signal) });
    expect(cut.status).toBe('interrupted');
    return cut.runDir;
  };

  it('lets one of two resumes started at the same moment continue the run, and refuses the other', async () => {
    const dir = await interrupted('race');
    const children = [0, 1].map(() => execa('node', [BIN, 'resume', dir], { reject: false }));
    const both = await Promise.all(children);
    expect(both.map((r) => r.exitCode).sort()).toEqual([0, 2]);
    const record = readJson(join(dir, 'run.json')) as { status: string; resumes: unknown[]; pid: number };
    expect(record.status).toBe('completed');
    expect(record.resumes).toHaveLength(1);
    expect(children[both.findIndex((r) => r.exitCode === 0)]!.pid).toBe(record.pid);
    expect(existsSync(join(dir, 'run.lock'))).toBe(false);
  });

  it('refuses to resume a folder another live process holds, naming it', async () => {
    const dir = await interrupted('held');
    const lock = RunLock.acquire(dir);
    try {
      const r = await execa('node', [BIN, 'resume', dir], { reject: false });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(`is in use by pid ${process.pid}`);
    } finally {
      lock.release();
    }
  });

  it('takes over the lock of a dead process on this host, and says so', async () => {
    const dir = await interrupted('stale');
    const dead = 2 ** 22 + 17;
    writeFileSync(join(dir, 'run.lock'), JSON.stringify({ pid: dead, host: hostname(), since: '2026-11-28T00:00:00Z' }));
    // What a kill -9 during a save leaves: temporary files of the dead process.
    const leftovers = [join(dir, `run.json.tmp-${dead}-abcdef`), join(dir, 'checkpoint', `arrays-9-9-000000.bin.tmp-${dead}-abcdef`)];
    for (const f of leftovers) writeFileSync(f, 'half');
    const r = await execa('node', [BIN, 'resume', dir], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`took over the lock of ${dir} from pid ${dead}`);
    expect(leftovers.filter((f) => existsSync(f))).toEqual([]);
  });
});

describe('checkpoint: best, after a crash (SIGKILL)', () => {
  it('goes back to the best epoch, trains the later epochs again, and ends as a run never stopped', async () => {
    const args = ['run', TINY, '--set', 'train.epochs=30', '--set', 'train.checkpoint=best', '--set', 'compile.optimizer.adam.learningRate=0.05'];
    const whole = await execa('node', [BIN, ...args, '--out', join(work, 'best-a')], { cwd: work, reject: false });
    expect(whole.exitCode, whole.stderr).toBe(0);
    const child = execa('node', [BIN, ...args, '--out', join(work, 'best-b')], { cwd: work, reject: false });
    // Killed at the first epoch whose validation loss is worse than the best so far, whichever that is:
    // that epoch wrote no checkpoint, so the one on disk is behind the crash.
    let best = Infinity;
    let killedAt: number | undefined;
    onLine(child.stderr, (line) => {
      const v = epochLineValues(line);
      if (!v || killedAt !== undefined) return;
      if (v['val_loss']! > best) {
        killedAt = v['epoch'];
        child.kill('SIGKILL');
      }
      best = Math.min(best, v['val_loss']!);
    });
    await child;
    expect(killedAt, 'validation loss never got worse in 30 epochs').toBeDefined();
    const dirOf = (o: string) => join(work, o, readdirSync(join(work, o))[0]!);
    const crashed = dirOf('best-b');
    const state = readJson(join(crashed, 'checkpoint', 'state.json')) as { reason: string; cursor: { epoch: number } };
    expect(state.reason).toBe('best');
    const logged = curves(crashed);
    const bestLogged = logged.reduce((b, r) => (r['val_loss']! < b['val_loss']! ? r : b));
    expect(state.cursor.epoch).toBe(bestLogged['epoch']! + 1);
    expect(state.cursor.epoch).toBeLessThanOrEqual(killedAt!);
    const resumed = await execa('node', [BIN, 'resume', crashed], { cwd: work, reject: false });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const [a, b] = [results(dirOf('best-a')), results(crashed)];
    expect(b.curves).toEqual(a.curves);
    expect(b.weights.equals(a.weights)).toBe(true);
  });
});

describe('runner resume (CLI, real SIGINT)', () => {
  it('continues a run stopped with Ctrl-C to the same weights as a run never stopped', async () => {
    const spec = new URL('../../experiments/mnist-mlp.yaml', import.meta.url).pathname;
    const args = ['run', spec, '--set', 'train.epochs=5', '--backend', 'wasm'];
    const whole = await execa('node', [BIN, ...args, '--out', join(work, 'cli-a')], { cwd: work, reject: false });
    expect(whole.exitCode, whole.stderr).toBe(0);
    const child = execa('node', [BIN, ...args, '--out', join(work, 'cli-b')], { cwd: work, reject: false });
    onLine(child.stderr, (line) => {
      if (epochLineValues(line)?.['epoch'] === 1) child.kill('SIGINT');
    });
    const cut = await child;
    expect(cut.exitCode, cut.stderr).toBe(130);
    expect(cut.stderr).toContain('continue it with: runner resume');
    const dirOf = (o: string) => join(work, o, readdirSync(join(work, o))[0]!);
    const resumed = await execa('node', [BIN, 'resume', dirOf('cli-b')], { cwd: work, reject: false });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const [a, b] = [results(dirOf('cli-a')), results(dirOf('cli-b'))];
    expect(b.curves).toEqual(a.curves);
    expect(b.weights.equals(a.weights)).toBe(true);
  });
});
