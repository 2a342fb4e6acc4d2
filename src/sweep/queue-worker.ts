import { existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { EXIT, RunnerError } from '../core/errors.js';
import { runnerVersion } from '../runs/environment.js';
import { readRun } from '../runs/reader.js';
import { openTrialLog } from './folder.js';
import { jobPlan } from './jobs.js';
import { coresPerTrial, sweepSettings, WorkerPool } from './pool.js';
import { isConnectionGone, openRedis, parseQueueUrl, REGISTRY, type QueueJobData, type QueueJobResult } from './redis.js';
import { trialError } from './trials.js';

export interface QueueWorkerOptions {
  readonly queue: string;
  /** Trials at once on this machine. */
  readonly jobs: number;
  /** Stay when the sweeps are done, for the next one. */
  readonly keepAlive?: boolean;
  /** Ctrl-C: trials under way are checkpointed and handed back to the queue. */
  readonly signal?: AbortSignal;
  readonly onEvent?: (line: string) => void;
}

/** How long a worker holds a job without renewing its lock before another may take it (stalled); RUNNER_QUEUE_LOCK_MS changes it. */
const lockMs = () => Number(process.env['RUNNER_QUEUE_LOCK_MS'] ?? 30_000);

/**
 * `runner worker --queue redis://...`: takes the trials of every sweep under way on that Redis,
 * `jobs` at a time, each in a sweep worker process, into the sweep's folder, and answers with the
 * run folder. It ends by itself once the sweeps it served are done (unless `keepAlive`). A job
 * whose worker died is taken by another after the lock expires and continues from its checkpoint.
 */
export async function serveQueue(opts: QueueWorkerOptions): Promise<number> {
  const target = parseQueueUrl(opts.queue);
  const stop = new AbortController();
  let lost: string | undefined;
  const connection = await openRedis(target, (message) => {
    lost = message;
    stop.abort();
  });
  if (opts.signal?.aborted) stop.abort();
  opts.signal?.addEventListener('abort', () => stop.abort());
  const version = runnerVersion();
  const pool = new WorkerPool(join(tmpdir(), `runner-worker-${process.pid}`));
  const workers = new Map<string, Worker<QueueJobData, QueueJobResult>>();
  // BullMQ 5.81's Worker, once closing, retries a job's completion without a pause while the
  // connection is down: a loop of promises that starves every timer, this process's exit included.
  // So a worker whose Redis is gone is never closed; the process ends instead (cli: endSoon).
  const closeAll = () => Promise.allSettled(lost ? [] : [...workers.values()].map((w) => w.close()));
  stop.signal.addEventListener('abort', () => {
    pool.stop();
    // Take no further job: the ones under way end (handed back) and the queues close.
    void closeAll();
  });
  let served = 0;

  const handBack = async (job: Job<QueueJobData, QueueJobResult>, token: string | undefined, what: string): Promise<never> => {
    if (!lost && token) await job.moveToWait(token);
    opts.onEvent?.(`[${job.data.hash}] ${what}`);
    throw new WaitingError();
  };

  const processor = async (job: Job<QueueJobData, QueueJobResult>, token?: string): Promise<QueueJobResult> => {
    const d = job.data;
    // Taken in the moment between Ctrl-C and the queue's close: not this worker's any more.
    if (stop.signal.aborted) return handBack(job, token, 'handed back (not started)');
    if (d.version !== version) throw new UnrecoverableError(`worker on ${hostname()} runs runner ${version}, the sweep was planned by runner ${d.version}; install the same version on every machine`);
    for (const [what, path] of [['spec', d.spec], ['sweep folder', d.out]] as const) {
      if (!existsSync(path)) throw new UnrecoverableError(`worker on ${hostname()} cannot read the ${what} ${path}; the spec and --out must be on storage every worker sees at the same path`);
    }
    // A job started before (its worker stopped renewing the lock: killed) may find its run marked running: take it over.
    const { reached, resume } = jobPlan(d.out, d.hash, d.job, d.known, job.attemptsStarted > 1 || job.stalledCounter > 0);
    if (reached) return { runDir: reached.dir };
    const log = openTrialLog(d.out, d.hash);
    opts.onEvent?.(`[${d.hash}] ${resume ? 'continue' : 'start'} (sweep ${d.sweep}${d.until ? `, to ${d.until.epochs} epochs` : ''})`);
    const end = await pool.run({
      hash: d.hash, spec: d.spec, sets: d.sets, out: d.out, log, cores: coresPerTrial(opts.jobs), ...sweepSettings(d),
      ...(resume ? { resume, takeOver: true } : {}), ...(d.until ? { until: d.until } : {}),
    });
    const run = end.type === 'done' && end.runDir ? readRun(end.runDir) : undefined;
    // Ctrl-C or Redis gone: the trial is checkpointed (or its process died before it began); hand the job back for another worker.
    if (stop.signal.aborted && (run?.status === 'interrupted' || !run)) return handBack(job, token, run ? 'handed back (checkpointed)' : 'handed back');
    opts.onEvent?.(`[${d.hash}] ${run?.status ?? 'failed'}${run ? ` (${run.id})` : ''}`);
    return { ...(run ? { runDir: run.dir } : {}), ...(trialError(run, end, log) ? { error: trialError(run, end, log) } : {}) };
  };

  const follow = async () => {
    const queues = await connection.smembers(REGISTRY.sweeps);
    for (const queue of queues) {
      if (workers.has(queue)) continue;
      const info = await connection.hgetall(REGISTRY.sweep(queue));
      if (info['state'] !== 'running') continue;
      opts.onEvent?.(`serving sweep ${info['sweep'] ?? queue} (queue ${queue}, ${opts.jobs} at a time)`);
      const w = new Worker<QueueJobData, QueueJobResult>(queue, processor, { connection, concurrency: opts.jobs, lockDuration: lockMs(), stalledInterval: lockMs(), maxStalledCount: 1000 });
      w.on('error', () => {});
      workers.set(queue, w);
      served++;
    }
    for (const [queue, w] of workers) {
      if (queues.includes(queue)) continue;
      if (!lost) await w.close();
      workers.delete(queue);
      opts.onEvent?.(`sweep queue ${queue} is done`);
    }
  };

  try {
    while (!stop.signal.aborted) {
      try {
        await follow();
      } catch (err) {
        if (!isConnectionGone(err)) throw err;
        lost ??= `lost the connection to Redis at ${target.shown} (${(err as Error).message})`;
        stop.abort();
        break;
      }
      if (served > 0 && workers.size === 0 && !opts.keepAlive) break;
      await new Promise((done) => setTimeout(done, 500));
    }
  } finally {
    await Promise.race([closeAll(), new Promise((done) => setTimeout(done, 5000).unref())]);
    pool.close();
    connection.disconnect();
  }
  if (lost) throw new RunnerError(`${lost}; the runs this worker finished are kept in their sweep folders`, EXIT.failed);
  return opts.signal?.aborted ? EXIT.interrupted : EXIT.ok;
}
