import { copyFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Leaderboard } from '../../src/sweep/leaderboard.js';
import { FIXTURES, onLine, readJson } from '../helpers.js';

const BIN = new URL('../../bin/runner.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'runner-sweep-e2e-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const runner = (args: string[]) => execa('node', [BIN, ...args], { cwd: work, reject: false });

const trialDirs = (dir: string) => readdirSync(dir).filter((d) => /^\d{8}-\d{6}-/.test(d)).sort();
/** Leaderboard rows without the run ids and folders, which differ between machines. */
const rowsOf = (lb: Leaderboard) => lb.rows.map(({ runs: _runs, ...rest }) => rest);

let sweepDir: string;
let leaderboard: Leaderboard;
beforeAll(async () => {
  copyFileSync(join(FIXTURES, 'tiny-sweep.yaml'), join(work, 'sweep.yaml'));
  const r = await runner(['sweep', 'sweep.yaml', '-j', '2', '--threads', 'auto', '--format', 'json']);
  expect(r.exitCode, r.stderr).toBe(0);
  leaderboard = JSON.parse(r.stdout.slice(0, r.stdout.lastIndexOf('}') + 1)) as Leaderboard;
  const [id] = readdirSync(join(work, 'runs'));
  sweepDir = join(work, 'runs', id!);
});

describe('runner sweep', () => {
  it('runs every trial as its own run and ranks variants by mean +/- std over seeds', () => {
    expect(trialDirs(sweepDir)).toHaveLength(4);
    expect(leaderboard.rows).toHaveLength(2);
    for (const row of leaderboard.rows) {
      expect(row.n).toBe(2);
      expect(row.seeds).toEqual([1, 2]);
      const accs = row.runs.map((id) => (readJson(join(sweepDir, id, 'summary.json')) as { accuracy: number }).accuracy);
      const mean = (accs[0]! + accs[1]!) / 2;
      expect(row.mean).toBeCloseTo(mean, 12);
      expect(row.std).toBeCloseTo(Math.abs(accs[0]! - accs[1]!) / Math.SQRT2, 12);
    }
    expect(leaderboard.rows[0]!.mean).toBeGreaterThanOrEqual(leaderboard.rows[1]!.mean);
    const sweep = readJson(join(sweepDir, 'sweep.json')) as { trials: { status: string; run: string }[] };
    expect(sweep.trials.map((t) => t.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(sweep.trials.map((t) => t.run).sort()).toEqual(trialDirs(sweepDir));
    expect(readFileSync(join(sweepDir, 'leaderboard.md'), 'utf8')).toContain('mean +/- std');
  });

  it('records each trial as an ordinary run of the spec with overrides', () => {
    const run = readJson(join(sweepDir, trialDirs(sweepDir)[0]!, 'run.json')) as Record<string, any>;
    expect(run['spec'].overrides).toEqual(expect.arrayContaining([expect.stringMatching(/^compile\.optimizer\.adam\.learningRate=/), expect.stringMatching(/^seed=/)]));
    const resolved = parse(readFileSync(join(sweepDir, trialDirs(sweepDir)[0]!, 'resolved.yaml'), 'utf8'));
    expect(resolved.sweep).toBeUndefined();
    expect(run['sweep']).toMatchObject({ id: sweepDir.split('/').pop(), metric: 'test.accuracy', goal: 'maximize' });
    // --threads auto with -j 2: on wasm, each trial computes on its share of the cores.
    if (run['backend'].used === 'wasm') expect(run['backend'].threads).toBe(Math.min(8, Math.max(1, Math.floor(availableParallelism() / 2))));
  });

  it('runs trials in reused worker processes, each trial bitwise the run a fresh runner run makes', async () => {
    const records = trialDirs(sweepDir).map((d) => ({ dir: d, ...(readJson(join(sweepDir, d, 'run.json')) as { pid: number; startedAt: string; spec: { overrides: string[] } }) }));
    // -j 2 and 4 trials: at most two worker processes, so at least one ran two trials.
    const pids = new Set(records.map((r) => r.pid));
    expect(pids.size).toBeLessThanOrEqual(2);
    const byPid = records.filter((r) => records.filter((o) => o.pid === r.pid).length > 1);
    // The latest trial of a worker that ran more than one: it ran in a process that had trained before.
    const later = byPid.sort((a, b) => a.startedAt.localeCompare(b.startedAt)).pop()!;
    const fresh = await runner(['run', 'sweep.yaml', ...later.spec.overrides.flatMap((o) => ['--set', o]), '--out', 'fresh']);
    expect(fresh.exitCode, fresh.stderr).toBe(0);
    const [freshDir] = readdirSync(join(work, 'fresh'));
    const weights = (dir: string) => readFileSync(join(dir, 'model', 'weights.bin'));
    expect(weights(join(work, 'fresh', freshDir!)).equals(weights(join(sweepDir, later.dir)))).toBe(true);
    expect(readFileSync(join(work, 'fresh', freshDir!, 'metrics.jsonl'), 'utf8').replace(/"seconds":[\d.]+/g, '')).toBe(readFileSync(join(sweepDir, later.dir, 'metrics.jsonl'), 'utf8').replace(/"seconds":[\d.]+/g, ''));
  });

  it('shares the data stages between trials through the stage cache', () => {
    const records = trialDirs(sweepDir).map((d) => readJson(join(sweepDir, d, 'run.json')) as { cached: string[]; data: { sha256: string } });
    // -j 2: the first two trials start together; the later ones find the entry the first wrote.
    expect(records.filter((r) => r.cached.length === 2).length).toBeGreaterThanOrEqual(2);
    expect(new Set(records.map((r) => r.data.sha256)).size).toBe(1);
  });

  it('does no new training when run again, and reruns only a trial whose folder was deleted', async () => {
    const again = await runner(['sweep', 'sweep.yaml', '-j', '2']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('(0 trial(s) run now, 4 already done or on other shards)');
    expect(trialDirs(sweepDir)).toHaveLength(4);

    const [victim, ...kept] = trialDirs(sweepDir);
    rmSync(join(sweepDir, victim!), { recursive: true });
    const third = await runner(['sweep', 'sweep.yaml', '-j', '2']);
    expect(third.exitCode, third.stderr).toBe(0);
    expect(third.stdout).toContain('(1 trial(s) run now, 3 already done or on other shards)');
    const now = trialDirs(sweepDir);
    expect(now).toHaveLength(4);
    expect(now.filter((d) => !kept.includes(d))).toHaveLength(1);
  });

  it('gives the same trial set and leaderboard when sharded over two processes and aggregated', async () => {
    const [one, two] = await Promise.all([
      runner(['sweep', 'sweep.yaml', '--shard', '1/2', '--out', 'shard-1', '-j', '1']),
      runner(['sweep', 'sweep.yaml', '--shard', '2/2', '--out', 'shard-2', '-j', '1']),
    ]);
    expect(one.exitCode, one.stderr).toBe(0);
    expect(two.exitCode, two.stderr).toBe(0);
    // CI artifacts copied into one place, then aggregated.
    cpSync(join(work, 'shard-1'), join(work, 'all', 'shard-1'), { recursive: true });
    cpSync(join(work, 'shard-2'), join(work, 'all', 'shard-2'), { recursive: true });
    const report = await runner(['sweep', '--report', 'all', '--format', 'json']);
    expect(report.exitCode, report.stderr).toBe(0);
    const sharded = JSON.parse(report.stdout) as Leaderboard;
    expect(sharded.trials).toBe(4);
    expect(rowsOf(sharded)).toEqual(rowsOf(leaderboard));
    const unsharded = JSON.parse((await runner(['sweep', '--report', join('runs'), '--format', 'json'])).stdout) as Leaderboard;
    expect(rowsOf(unsharded)).toEqual(rowsOf(leaderboard));
  });

  it('prints a GitHub Actions matrix of the shards', async () => {
    const r = await runner(['sweep', 'sweep.yaml', '--matrix', '--shards', '3']);
    expect(JSON.parse(r.stdout)).toEqual({ include: [{ shard: '1/3' }, { shard: '2/3' }, { shard: '3/3' }] });
  });

  it('keeps going past a failing trial, then exits 1 and lists it', async () => {
    const text = readFileSync(join(FIXTURES, 'tiny-sweep.yaml'), 'utf8')
      .replace('compile.optimizer.adam.learningRate: [0.01, 0.003]', 'preprocess.1: [{ flatten: {} }, { reshape: { targetShape: [700] } }]')
      .replace('seeds: [1, 2]', 'seeds: [1]');
    writeFileSync(join(work, 'failing.yaml'), text);
    const r = await runner(['sweep', 'failing.yaml', '-j', '2', '--out', 'failing-runs']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('runner: 1 trial(s) failed:');
    // Located as a spec problem: the trial's parameter is the override that set the key.
    expect(r.stderr).toContain("preprocess.1={\"reshape\":{\"targetShape\":[700]}} seed=1: stage 'normalize' failed: preprocess[1].reshape.targetShape (--set preprocess.1={\"reshape\":{\"targetShape\":[700]}}, failing.yaml): cannot reshape examples of shape [28,28] (784 values) to [700] (700 values)");
    expect(r.stdout).toMatch(/^1 +\{"flatten":\{\}\} +1 +0\.\d{4} \+\/- 0\.0000$/m);
  });

  it('applies --set to every trial before its parameters, and records it in each run.json', async () => {
    const r = await runner(['sweep', 'sweep.yaml', '--set', 'data.trainLimit=64', '--set', 'train.batchSize=16', '-j', '2', '--out', 'set-runs']);
    expect(r.exitCode, r.stderr).toBe(0);
    const [id] = readdirSync(join(work, 'set-runs'));
    const dirs = trialDirs(join(work, 'set-runs', id!));
    expect(dirs).toHaveLength(4);
    for (const d of dirs) {
      const run = readJson(join(work, 'set-runs', id!, d, 'run.json')) as { spec: { overrides: string[] }; data: { counts: { train: number; validation: number } } };
      expect(run.spec.overrides.slice(0, 2)).toEqual(['data.trainLimit=64', 'train.batchSize=16']);
      expect(run.spec.overrides.slice(2).map((o) => o.split('=')[0])).toEqual(['compile.optimizer.adam.learningRate', 'seed']);
      expect(run.data.counts.train + run.data.counts.validation).toBe(64);
    }
  });

  it('runs nothing with --dry-run and rejects a bad shard before any trial starts', async () => {
    const dry = await runner(['sweep', 'sweep.yaml', '--dry-run', '--out', 'dry']);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toMatch(/4 trial\(s\); nothing was run/);
    expect(readdirSync(work)).not.toContain('dry');
    const bad = await runner(['sweep', 'sweep.yaml', '--shard', '3/2', '--out', 'bad-shard']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('shard 3/2 does not exist');
    expect(readdirSync(work)).not.toContain('bad-shard');
  });

  it.each([
    { to: 'the sweep process', out: 'int-runs' },
    { to: 'its process group, as a terminal sends it', out: 'int-group' },
  ])('stops cleanly on Ctrl-C to $to: exit 130, finished trials intact, the rest interrupted in order', async ({ out }) => {
    // 12 trials one at a time: Ctrl-C comes after the first finishes, long before the last.
    const text = readFileSync(join(FIXTURES, 'tiny-sweep.yaml'), 'utf8').replace('seeds: [1, 2]', 'seeds: [1, 2, 3]').replace('[0.01, 0.003]', '[0.01, 0.003, 0.002, 0.001]');
    writeFileSync(join(work, 'long.yaml'), text);
    const group = out === 'int-group';
    const sweep = execa('node', [BIN, 'sweep', 'long.yaml', '-j', '1', '--out', out], { cwd: work, reject: false, detached: group });
    onLine(sweep.stderr, (line) => {
      if (/^\[\d+\/\d+ [0-9a-f]+\] completed/.test(line)) (group ? process.kill(-sweep.pid!, 'SIGINT') : sweep.kill('SIGINT'));
    });
    const r = await sweep;
    expect(r.exitCode).toBe(130);
    const [id] = readdirSync(join(work, out));
    const dir = join(work, out, id!);
    // A trial the Ctrl-C reached ended in order (its log says how to go on), whether it came from the terminal, the sweep, or both.
    for (const d of trialDirs(dir)) {
      const run = readJson(join(dir, d, 'run.json')) as { status: string; specHash: string };
      if (run.status === 'interrupted') expect(readFileSync(join(dir, 'logs', `${run.specHash}.log`), 'utf8')).toContain('continue it with: runner resume');
    }
    const statuses = trialDirs(dir).map((d) => (readJson(join(dir, d, 'run.json')) as { status: string }).status);
    expect(statuses.filter((s) => s === 'completed').length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 'completed' || s === 'interrupted')).toBe(true);
    const list = readJson(join(dir, 'sweep.json')) as { trials: { status: string }[] };
    expect(list.trials.filter((t) => t.status === 'completed').length).toBe(statuses.filter((s) => s === 'completed').length);
  });
});

describe('the example GitHub Actions workflow', () => {
  const workflow = parse(readFileSync(new URL('../../.github/workflows/sweep.yml', import.meta.url), 'utf8'));
  const commands: string[] = Object.values(workflow.jobs as Record<string, { steps: { run?: string }[] }>)
    .flatMap((job) => job.steps.map((s) => s.run ?? ''))
    .flatMap((run) => run.split('\n'))
    .filter((line) => line.includes('npx runner'));

  it('plans, shards and aggregates with runner commands', () => {
    expect(Object.keys(workflow.jobs)).toEqual(['plan', 'shard', 'aggregate']);
    expect(workflow.jobs.shard.strategy.matrix).toBe('${{ fromJSON(needs.plan.outputs.matrix) }}');
    expect(commands.join('\n')).toMatch(/--matrix[\s\S]*--shard "\$\{\{ matrix\.shard \}\}"[\s\S]*--report all-runs --format md/);
  });

  it('uses only options that runner sweep has', async () => {
    const help = (await execa('node', [BIN, 'sweep', '--help'])).stdout;
    for (const cmd of commands) {
      for (const option of cmd.match(/--[a-z-]+/g) ?? []) expect(help).toContain(option);
    }
  });

  it('gets a valid matrix from the plan job’s command', async () => {
    const matrixCmd = commands.find((c) => c.includes('--matrix'))!;
    const args = matrixCmd.slice(matrixCmd.indexOf('npx runner') + 'npx runner'.length, matrixCmd.lastIndexOf(')')).trim()
      .replace('"$SPEC"', new URL('../../experiments/mnist-sweep.yaml', import.meta.url).pathname).replace('"$SHARDS"', '2').split(/\s+/);
    const r = await execa('node', [BIN, ...args]);
    expect(JSON.parse(r.stdout)).toEqual({ include: [{ shard: '1/2' }, { shard: '2/2' }] });
  });
});
