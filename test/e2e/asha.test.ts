import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Leaderboard } from '../../src/sweep/leaderboard.js';
import type { Decision } from '../../src/sweep/scheduler.js';
import { FIXTURES, onLine, readJson, readJsonl } from '../helpers.js';

const BIN = new URL('../../bin/runner.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'runner-asha-e2e-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const runner = (args: string[]) => execa('node', [BIN, ...args], { cwd: work, reject: false });

const sweepIn = (out: string) => join(work, out, readdirSync(join(work, out)).find((d) => d.startsWith('tiny-asha'))!);
const trialDirs = (dir: string) => readdirSync(dir).filter((d) => /^\d{8}-\d{6}-/.test(d)).sort();
/** decisions.jsonl without the run ids (another sweep folder has other ones). */
const decisionsOf = (dir: string) => readFileSync(join(dir, 'decisions.jsonl'), 'utf8').trim().split('\n').slice(1).map((l) => {
  const { run: _run, ...d } = JSON.parse(l) as Decision & { run?: string };
  return d;
});
const rowsOf = (lb: Leaderboard) => lb.rows.map(({ runs: _runs, ...rest }) => rest);
const withoutSeconds = (file: string) => readJsonl(file).map(({ seconds: _s, ...rest }) => rest);

let dir: string;
let leaderboard: Leaderboard;
beforeAll(async () => {
  copyFileSync(join(FIXTURES, 'tiny-asha.yaml'), join(work, 'asha.yaml'));
  const r = await runner(['sweep', 'asha.yaml', '-j', '1', '--format', 'json']);
  expect(r.exitCode, r.stderr).toBe(0);
  leaderboard = JSON.parse(r.stdout.slice(0, r.stdout.lastIndexOf('}') + 1)) as Leaderboard;
  dir = sweepIn('runs');
});

describe('runner sweep with an asha scheduler', () => {
  it('stops trials at rungs, records them as stopped, and trains the best to max', () => {
    const decisions = decisionsOf(dir);
    const results = decisions.filter((d) => d.type === 'result') as Extract<Decision, { type: 'result' }>[];
    expect(results.filter((d) => d.rung === 0)).toHaveLength(9);
    expect(results.every((d) => d.status !== 'failed')).toBe(true);
    const finished = results.filter((d) => d.epochs === 9);
    expect(finished.length).toBeGreaterThanOrEqual(1);
    for (const id of trialDirs(dir)) {
      const run = readJson(join(dir, id, 'run.json')) as { status: string; stopped?: { epoch: number; reason: string }; stages: { name: string; status: string }[] };
      const epochs = readJsonl(join(dir, id, 'metrics.jsonl')).length;
      if (run.status === 'stopped') {
        expect([1, 3]).toContain(run.stopped!.epoch);
        expect(epochs).toBe(run.stopped!.epoch);
        expect(run.stopped!.reason).toMatch(/asha rung \d \(\d of 9 epochs\)/);
        expect(run.stages.find((s) => s.name === 'evaluate')!.status).toBe('skipped');
        expect(existsSync(join(dir, id, 'summary.json'))).toBe(false);
      } else {
        expect(run.status).toBe('completed');
        expect(epochs).toBe(9);
      }
    }
    // Promotions continued the same run folder: one folder per trial.
    expect(trialDirs(dir)).toHaveLength(9);
  });

  it('ranks trials trained further first and reports the epochs spent against a grid', () => {
    expect(leaderboard.rows[0]!.epochs).toBe(9);
    expect(leaderboard.rows[0]!.stopped).toBe(false);
    const epochs = leaderboard.rows.map((r) => r.epochs!);
    expect([...epochs].sort((a, b) => b - a)).toEqual(epochs);
    const spent = trialDirs(dir).reduce((a, id) => a + readJsonl(join(dir, id, 'metrics.jsonl')).length, 0);
    expect(leaderboard.budget).toEqual({ scheduler: 'asha', epochs: spent, grid: 81 });
    expect(spent).toBeLessThan(81 / 2);
    const md = readFileSync(join(dir, 'leaderboard.md'), 'utf8');
    expect(md).toContain(`asha: ${spent} epochs trained, against 81 for these trials as a grid`);
    expect(md).toMatch(/\| 1 \(stopped\) \|/);
  });

  it('gives a promoted trial bitwise the result of a straight run of max epochs', async () => {
    const top = leaderboard.rows[0]!.runs[0]!;
    const record = readJson(join(dir, top, 'run.json')) as { spec: { overrides: string[] }; resumes: { checkpoint: string }[] };
    expect(record.resumes.map((r) => r.checkpoint)).toEqual(['rung', 'rung']);
    const r = await runner(['run', 'asha.yaml', ...record.spec.overrides.flatMap((o) => ['--set', o]), '--out', 'straight']);
    expect(r.exitCode, r.stderr).toBe(0);
    const straight = join(work, 'straight', readdirSync(join(work, 'straight'))[0]!);
    expect(readFileSync(join(straight, 'model', 'weights.bin')).equals(readFileSync(join(dir, top, 'model', 'weights.bin')))).toBe(true);
    expect(withoutSeconds(join(dir, top, 'metrics.jsonl'))).toEqual(withoutSeconds(join(straight, 'metrics.jsonl')));
    expect(readJson(join(dir, top, 'summary.json'))).toEqual(readJson(join(straight, 'summary.json')));
  });

  it('continues after a kill -9 of the sweep and its workers, making the same decisions', async () => {
    const child = execa('node', [BIN, 'sweep', 'asha.yaml', '-j', '1', '--out', 'killed'], { cwd: work, reject: false, detached: true });
    let results = 0;
    onLine(child.stderr, (line) => {
      // Kill in the middle: after the fifth result, while the next job is under way.
      if (/ stopped at rung /.test(line) && ++results === 5) process.kill(-child.pid!, 'SIGKILL');
    });
    const first = await child;
    expect(first.signal).toBe('SIGKILL');
    const again = await runner(['sweep', 'asha.yaml', '-j', '1', '--out', 'killed', '--format', 'json']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(decisionsOf(sweepIn('killed'))).toEqual(decisionsOf(dir));
    expect(rowsOf(JSON.parse(again.stdout.slice(0, again.stdout.lastIndexOf('}') + 1)) as Leaderboard)).toEqual(rowsOf(leaderboard));
  });

  it('continues after Ctrl-C (exit 130) with the same decisions', async () => {
    const child = execa('node', [BIN, 'sweep', 'asha.yaml', '-j', '1', '--out', 'interrupted'], { cwd: work, reject: false, detached: true });
    let starts = 0;
    onLine(child.stderr, (line) => {
      if (/\] (start|promote) /.test(line) && ++starts === 4) process.kill(-child.pid!, 'SIGINT');
    });
    const first = await child;
    expect(first.exitCode, first.stderr).toBe(130);
    expect(first.stderr).toContain('sweep interrupted; run it again to resume');
    const again = await runner(['sweep', 'asha.yaml', '-j', '1', '--out', 'interrupted']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(decisionsOf(sweepIn('interrupted'))).toEqual(decisionsOf(dir));
  });

  it('writes an HTML page for the sweep: leaderboard, every trial by epoch, the rungs', async () => {
    const r = await runner(['report', dir, '-o', 'sweep.html']);
    expect(r.exitCode, r.stderr).toBe(0);
    const html = readFileSync(join(work, 'sweep.html'), 'utf8');
    expect(html).toContain('runner sweep report');
    expect(html).toContain('Dashed lines: the rungs (1, 3, 9 epochs)');
    expect(html).toContain('stopped at 1 epoch(s)');
    expect(html).toContain('trained to 9 epoch(s)');
  });

  it('lets runner resume take a stopped trial on to max', async () => {
    const stopped = trialDirs(dir).find((id) => (readJson(join(dir, id, 'run.json')) as { status: string }).status === 'stopped')!;
    const r = await runner(['resume', join(dir, stopped)]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readJsonl(join(dir, stopped, 'metrics.jsonl'))).toHaveLength(9);
  });

  it('shows rungs and budgets with --dry-run, and refuses --shard', async () => {
    const dry = await runner(['sweep', 'asha.yaml', '--dry-run']);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain('asha on train.epochs (min 1, max 9, reduction factor 3)');
    expect(dry.stdout).toMatch(/0 +1, 3, 9 +9/);
    expect(dry.stdout).toContain("epochs: 21 by successive halving (25.9% of the grid's 81); at most 53 (65.4%)");
    const shard = await runner(['sweep', 'asha.yaml', '--shard', '1/2']);
    expect(shard.exitCode).toBe(2);
    expect(shard.stderr).toContain('the asha scheduler decides promotions as results come in');
    expect(shard.stderr).not.toMatch(/\n\s+at /);
  });

  it('keeps going past a failed trial (ranked nowhere, listed), or stops at it with --fail-fast', async () => {
    // Pixels divided by 1e-37 overflow float32: normalize refuses them, and those 3 trials fail at rung 0.
    const text = readFileSync(join(work, 'asha.yaml'), 'utf8').replace('compile.optimizer.adam.learningRate: [0.03, 0.01, 0.001]', 'preprocess.0.scale.divisor: [1.0e-37, 255, 200]');
    writeFileSync(join(work, 'failing.yaml'), text);
    const on = await runner(['sweep', 'failing.yaml', '-j', '1', '--backend', 'cpu', '--out', 'failing', '--format', 'json']);
    expect(on.exitCode).toBe(1);
    expect(on.stderr).toMatch(/runner: 3 trial\(s\) failed:/);
    const lb = JSON.parse(on.stdout.slice(0, on.stdout.lastIndexOf('}') + 1)) as Leaderboard;
    expect(lb.rows).toHaveLength(6);
    expect(lb.failed.map((f) => f.params['preprocess.0.scale.divisor'])).toEqual([1e-37, 1e-37, 1e-37]);
    // 6 values at rung 0 promote 2; 2 at rung 1 promote none (the top third of 2 is nobody).
    expect(lb.rows.map((r) => r.epochs)).toEqual([3, 3, 1, 1, 1, 1]);
    expect(lb.budget).toMatchObject({ scheduler: 'asha', grid: 81 });
    const fast = await runner(['sweep', 'failing.yaml', '-j', '1', '--backend', 'cpu', '--out', 'failing-fast', '--fail-fast']);
    expect(fast.exitCode).toBe(1);
    expect(fast.stderr).toMatch(/runner: 1 trial\(s\) failed:/);
    expect(decisionsOf(join(work, 'failing-fast', readdirSync(join(work, 'failing-fast'))[0]!))).toHaveLength(2);
  });

  it('runs hyperband brackets in parallel, each configuration starting at its bracket\'s first rung', async () => {
    writeFileSync(join(work, 'hyperband.yaml'), readFileSync(join(work, 'asha.yaml'), 'utf8').replace('asha: {', 'hyperband: {'));
    const r = await runner(['sweep', 'hyperband.yaml', '-j', '2', '--out', 'hb']);
    expect(r.exitCode, r.stderr).toBe(0);
    const hb = join(work, 'hb', readdirSync(join(work, 'hb'))[0]!);
    const starts = decisionsOf(hb).filter((d) => d.type === 'start');
    expect(starts).toHaveLength(9);
    const rungs = (readJson(join(hb, 'sweep.json')) as { scheduler: { brackets: number[][] } }).scheduler.brackets;
    expect(rungs).toEqual([[1, 3, 9], [3, 9], [9]]);
    for (const s of starts) expect(s.epochs).toBe(rungs[s.bracket]![0]);
    expect(new Set(starts.map((s) => s.bracket))).toEqual(new Set([0, 1, 2]));
  });
});
