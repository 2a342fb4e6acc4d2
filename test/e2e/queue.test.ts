import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { execa, type ResultPromise } from 'execa';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Leaderboard } from '../../src/sweep/leaderboard.js';
import { parse, stringify } from 'yaml';
import { FIXTURES, onLine, readJson } from '../helpers.js';
import { freePort, hasRedis, REDIS, RedisServers } from './redis-servers.js';

const BIN = new URL('../../bin/runner.js', import.meta.url).pathname;
if (!hasRedis) console.warn(`${REDIS} is not installed: the Redis queue tests are skipped (apt-get install redis-server runs them; .ci/run does)`);

const work = mkdtempSync(join(tmpdir(), 'runner-queue-e2e-'));
const redisServers = new RedisServers(work);
afterAll(() => {
  redisServers.stopAll();
  rmSync(work, { recursive: true, force: true });
});
const startRedis = (...args: string[]) => redisServers.start(...args);

/** A runner process in the test folder, in its own process group (so a kill reaches its trial processes too). */
const runner = (args: string[], env: Record<string, string> = {}) => execa('node', [BIN, ...args], { cwd: work, reject: false, detached: true, env: { RUNNER_QUEUE_LOCK_MS: '1500', ...env } });
const leaderboardOf = (stdout: string) => JSON.parse(stdout.slice(0, stdout.lastIndexOf('}') + 1)) as Leaderboard;
const rowsOf = (lb: Leaderboard) => lb.rows.map(({ runs: _runs, ...rest }) => rest);
const sweepIn = (out: string) => join(work, out, readdirSync(join(work, out))[0]!);
const decisionsOf = (dir: string) => readFileSync(join(dir, 'decisions.jsonl'), 'utf8').trim().split('\n').slice(1).map((l) => {
  const { run: _run, ...d } = JSON.parse(l) as Record<string, unknown>;
  return d;
});
/**
 * The first run folder under OUT's sweep folder with a whole checkpoint: a trial that has trained
 * an epoch (the long spec leaves it about a second more to go). Polled, so the test acts on the
 * trial's own progress rather than on how fast a line reached it.
 */
async function training(out: string): Promise<string> {
  for (const until = Date.now() + 60_000; Date.now() < until; ) {
    const root = join(work, out);
    for (const sweep of existsSync(root) ? readdirSync(root) : []) {
      for (const run of readdirSync(join(root, sweep)).filter((d) => /^\d{8}-/.test(d))) {
        if (existsSync(join(root, sweep, run, 'checkpoint', 'state.json'))) return join(root, sweep, run);
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no trial under ${out} wrote a checkpoint within a minute`);
}
/** Lines a child writes to stderr, as they come. */
const linesOf = (child: ResultPromise) => {
  const lines: string[] = [];
  onLine(child.stderr, (l) => lines.push(l));
  return lines;
};

describe.skipIf(!hasRedis)('runner sweep --queue and runner worker (Redis)', () => {
  let redis: { url: string };
  const local: Record<string, { dir: string; rows: ReturnType<typeof rowsOf> }> = {};
  beforeAll(async () => {
    copyFileSync(join(FIXTURES, 'tiny-sweep.yaml'), join(work, 'grid.yaml'));
    copyFileSync(join(FIXTURES, 'tiny-asha.yaml'), join(work, 'asha.yaml'));
    // Two trials long enough (10 epochs of 800 digits) to stop one in the middle of its training.
    const long = parse(readFileSync(join(FIXTURES, 'tiny-sweep.yaml'), 'utf8')) as { data: Record<string, unknown>; train: Record<string, unknown>; sweep: Record<string, unknown> };
    Object.assign(long.data, { trainLimit: 1000 });
    Object.assign(long.train, { epochs: 10 });
    delete long.sweep['seeds'];
    writeFileSync(join(work, 'long.yaml'), stringify({ ...long, name: 'long-sweep' }));
    redis = await startRedis();
    // The same sweeps run locally, for the leaderboards and decisions to compare with.
    for (const [name, spec] of [['grid', 'grid.yaml'], ['asha', 'asha.yaml'], ['long', 'long.yaml']]) {
      const r = await runner(['sweep', spec!, '-j', '1', '--out', `local-${name}`, '--format', 'json']);
      expect(r.exitCode, r.stderr).toBe(0);
      local[name!] = { dir: sweepIn(`local-${name}`), rows: rowsOf(leaderboardOf(r.stdout)) };
    }
  });

  it('runs a grid sweep over two workers, who stop by themselves, with the local leaderboard', async () => {
    const workers = [runner(['worker', '--queue', redis.url]), runner(['worker', '--queue', redis.url])];
    const sweep = await runner(['sweep', 'grid.yaml', '--queue', redis.url, '--out', 'q-grid', '--format', 'json']);
    expect(sweep.exitCode, sweep.stderr).toBe(0);
    expect(rowsOf(leaderboardOf(sweep.stdout))).toEqual(local['grid']!.rows);
    const ended = await Promise.all(workers);
    for (const w of ended) expect(w.exitCode, w.stderr).toBe(0);
    expect(ended.map((w) => w.stderr).join('\n')).toMatch(/sweep queue runner-tiny-sweep-[\w-]+ is done/);
  });

  it('never runs a trial twice: a queue sweep over a folder a local sweep completed reads its runs', async () => {
    const before = readdirSync(local['grid']!.dir).filter((d) => /^\d{8}-/.test(d)).sort();
    const worker = runner(['worker', '--queue', redis.url]);
    const sweep = await runner(['sweep', 'grid.yaml', '--queue', redis.url, '--out', 'local-grid', '--format', 'json']);
    expect(sweep.exitCode, sweep.stderr).toBe(0);
    expect(rowsOf(leaderboardOf(sweep.stdout))).toEqual(local['grid']!.rows);
    expect(readdirSync(local['grid']!.dir).filter((d) => /^\d{8}-/.test(d)).sort()).toEqual(before);
    const w = await worker;
    expect(w.exitCode).toBe(0);
    expect(w.stderr).not.toMatch(/\] start /);
  });

  it('survives a worker killed with SIGKILL mid-trial: another continues its job from the checkpoint, with the local leaderboard', async () => {
    const workers = [runner(['worker', '--queue', redis.url]), runner(['worker', '--queue', redis.url])];
    const lines = workers.map(linesOf);
    const sweep = runner(['sweep', 'long.yaml', '--queue', redis.url, '-j', '1', '--out', 'q-kill', '--format', 'json']);
    // One trial at a time (-j 1): the worker that said it started the trial training now is killed.
    const run = await training('q-kill');
    const hash = (readJson(join(run, 'run.json')) as { sweep: { trial: string } }).sweep.trial;
    const victim = lines.findIndex((ls) => ls.some((l) => l.startsWith(`[${hash}] start `)));
    process.kill(-workers[victim]!.pid!, 'SIGKILL');
    const done = await sweep;
    expect(done.exitCode, done.stderr).toBe(0);
    expect((await workers[victim]!).signal).toBe('SIGKILL');
    const other = await workers[1 - victim]!;
    expect(other.exitCode).toBe(0);
    // The lock ran out, the other worker took the job and continued the killed run in its own folder.
    expect(lines[1 - victim]!.filter((l) => l.startsWith(`[${hash}] continue `))).toHaveLength(1);
    expect(rowsOf(leaderboardOf(done.stdout))).toEqual(local['long']!.rows);
  });

  it.each([
    // Ctrl-C in a terminal reaches the whole process group: the worker and its trial process.
    { how: 'Ctrl-C to its process group', out: 'q-handback', stop: (pid: number) => process.kill(-pid, 'SIGINT') },
    // Kubernetes stops a pod with SIGTERM to its main process alone: the trial learns it from the worker.
    { how: 'SIGTERM to the worker alone, as Kubernetes stops a pod', out: 'q-sigterm', stop: (pid: number) => process.kill(pid, 'SIGTERM') },
  ])('hands a worker\'s trial back on $how (checkpointed, exit 130); another worker finishes the sweep with the local leaderboard', async ({ out, stop }) => {
    const a = runner(['worker', '--queue', redis.url]);
    const aLines = linesOf(a);
    const sweep = runner(['sweep', 'long.yaml', '--queue', redis.url, '-j', '1', '--out', out, '--format', 'json']);
    const run = await training(out);
    const hash = (readJson(join(run, 'run.json')) as { sweep: { trial: string } }).sweep.trial;
    stop(a.pid!);
    expect((await a).exitCode, aLines.join('\n')).toBe(130);
    expect(aLines).toContain(`[${hash}] handed back (checkpointed)`);
    // The trial took the signal and the worker's stop as one: it stopped after its batch (or between epochs) and wrote a checkpoint, not quit at once.
    expect(readFileSync(join(sweepIn(out), 'logs', `${hash}.log`), 'utf8')).toMatch(/runner: interrupted in stage 'fit': interrupted (before epoch \d+|in epoch \d+ after batch \d+); checkpoint written/);
    expect(aLines.filter((l) => / start /.test(l))).toHaveLength(1);
    const b = runner(['worker', '--queue', redis.url]);
    const bLines = linesOf(b);
    const done = await sweep;
    expect(done.exitCode, done.stderr).toBe(0);
    expect((await b).exitCode).toBe(0);
    expect(bLines.filter((l) => l.startsWith(`[${hash}] continue `)), [...aLines, ...bLines, done.stderr].join('\n')).toHaveLength(1);
    expect(rowsOf(leaderboardOf(done.stdout))).toEqual(local['long']!.rows);
  });

  it('continues after the coordinator is killed and started again, making the same decisions', async () => {
    const worker = runner(['worker', '--queue', redis.url]);
    const first = runner(['sweep', 'asha.yaml', '--queue', redis.url, '-j', '1', '--out', 'q-restart']);
    let results = 0;
    onLine(first.stderr, (line) => {
      if (/ stopped at rung /.test(line) && ++results === 4) process.kill(-first.pid!, 'SIGKILL');
    });
    expect((await first).signal).toBe('SIGKILL');
    const again = await runner(['sweep', 'asha.yaml', '--queue', redis.url, '-j', '1', '--out', 'q-restart']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(decisionsOf(sweepIn('q-restart'))).toEqual(decisionsOf(local['asha']!.dir));
    expect((await worker).exitCode).toBe(0);
  });

  it('reports a spec the workers cannot read in the coordinator\'s output, and exits 1', async () => {
    mkdirSync(join(work, 'moving'), { recursive: true });
    copyFileSync(join(FIXTURES, 'tiny-sweep.yaml'), join(work, 'moving', 'grid.yaml'));
    const sweep = runner(['sweep', 'moving/grid.yaml', '--queue', redis.url, '--out', 'q-moved']);
    let worker: ResultPromise | undefined;
    onLine(sweep.stderr, (line) => {
      // Every trial is on the queue and no worker has started: move the spec away, then start one.
      if (/^\[\w+\] start /.test(line) && !worker && line.includes('seed=2') && line.includes('0.003')) {
        renameSync(join(work, 'moving'), join(work, 'moved'));
        worker = runner(['worker', '--queue', redis.url]);
      }
    });
    const r = await sweep;
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('4 trial(s) failed');
    expect(r.stderr).toMatch(/cannot read the spec \S+moving\/grid\.yaml; the spec and --out must be on storage every worker sees at the same path/);
    expect((await worker!).exitCode).toBe(0);
  });

  it('refuses a job planned by another runner version, with the reason', async () => {
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue('runner-other-version', { connection });
    await connection.multi().sadd('runner:sweeps', 'runner-other-version').hset('runner:sweep:runner-other-version', { sweep: 'other-version', queue: 'runner-other-version', out: work, version: '0.0.0-elsewhere', state: 'running' }).exec();
    const job = await queue.add('trial', { version: '0.0.0-elsewhere', sweep: 'other-version', hash: 'x', spec: join(work, 'grid.yaml'), sets: [], out: work, job: { type: 'start', trial: 'x', bracket: 0, rung: 0, epochs: 0 } });
    const worker = runner(['worker', '--queue', redis.url]);
    for (let i = 0; i < 100 && !(await job.isFailed()); i++) await new Promise((r) => setTimeout(r, 100));
    const failed = await queue.getJob(job.id!);
    expect(failed!.failedReason).toMatch(/runs runner \d+\.\d+\.\d+, the sweep was planned by runner 0\.0\.0-elsewhere; install the same version on every machine/);
    await connection.srem('runner:sweeps', 'runner-other-version');
    expect((await worker).exitCode).toBe(0);
    await queue.close();
    connection.disconnect();
  });

  it('names the URL when Redis cannot be reached or refuses the password (exit 2, within seconds)', async () => {
    const closed = `redis://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    for (const args of [['sweep', 'grid.yaml', '--queue', closed], ['worker', '--queue', closed]]) {
      const r = await runner(args);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(`cannot reach Redis at ${closed}: connection refused`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(Date.now() - started).toBeLessThan(15_000);
    const locked = await startRedis('--requirepass', 'secret');
    const wrong = await runner(['worker', '--queue', `redis://:nope@127.0.0.1:${locked.port}`]);
    expect(wrong.exitCode).toBe(2);
    expect(wrong.stderr).toContain(`Redis at redis://:***@127.0.0.1:${locked.port} refused the credentials`);
    const bad = await runner(['sweep', 'grid.yaml', '--queue', 'http://example.org']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("--queue 'http://example.org': expected a redis:// or rediss:// URL");
  });

  it('ends workers (exit 1, finished runs kept) and the coordinator when Redis goes away mid-sweep', async () => {
    const gone = await startRedis();
    const worker = runner(['worker', '--queue', gone.url, '--keep-alive']);
    const sweep = runner(['sweep', 'asha.yaml', '--queue', gone.url, '-j', '1', '--out', 'q-gone']);
    onLine(sweep.stderr, (line) => {
      if (/ stopped at rung /.test(line)) gone.server.kill('SIGKILL');
    });
    // Either one still up after a minute has hung: end both so the failure shows what they printed.
    const hung = setTimeout(() => [worker, sweep].forEach((p) => p.kill('SIGKILL')), 60_000);
    const [w, s] = await Promise.all([worker, sweep]);
    clearTimeout(hung);
    expect(w.exitCode, `worker:\n${w.stderr}\nsweep:\n${s.stderr}`).toBe(1);
    expect(s.exitCode, `worker:\n${w.stderr}\nsweep:\n${s.stderr}`).toBe(1);
    expect(w.stderr).toContain(`lost the connection to Redis at ${gone.url}`);
    expect(w.stderr).toContain('the runs this worker finished are kept in their sweep folders');
    expect(s.exitCode).toBe(1);
    expect(s.stderr).toContain(`lost the connection to Redis at ${gone.url}`);
    // One message each, not a line per failed reconnect.
    for (const out of [w.stderr, s.stderr]) expect(out).not.toContain('[ioredis] Unhandled error event');
    expect(readdirSync(sweepIn('q-gone')).filter((d) => /^\d{8}-/.test(d)).length).toBeGreaterThanOrEqual(1);
  });
});
