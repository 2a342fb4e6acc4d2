import { resolve } from 'node:path';
import { Job as QueuedJob, Queue, QueueEvents } from 'bullmq';
import { RunnerError } from '../core/errors.js';
import { runnerVersion } from '../runs/environment.js';
import { readRun } from '../runs/reader.js';
import { driveSweep } from './drive.js';
import type { TrialOutcome } from './folder.js';
import { resultOf, untilOf } from './jobs.js';
import type { Leaderboard } from './leaderboard.js';
import { trialSets, type SweepPlan, type Trial } from './plan.js';
import { sweepSettings } from './pool.js';
import type { Job, Result } from './scheduler.js';
import { isConnectionGone, openRedis, parseQueueUrl, queueName, REGISTRY, type QueueJobData, type QueueJobResult } from './redis.js';
import { sweepDir, type SweepOptions } from './trials.js';

/**
 * `runner sweep --queue redis://...`: the coordinator. It plans the sweep, puts its jobs on the
 * sweep's BullMQ queue (`-j` of them at a time), and makes the scheduler's decisions as workers'
 * results come back, with the decision log and leaderboard of a local sweep. Workers on any
 * machine run the jobs into the sweep folder, which they must all see at the same path.
 */
export async function runQueueSweep(plan: SweepPlan, opts: SweepOptions & { readonly queue: string }): Promise<{ outcomes: TrialOutcome[]; leaderboard?: Leaderboard; dir: string }> {
  const target = parseQueueUrl(opts.queue);
  const dir = sweepDir(plan, opts.out);
  const stop = new AbortController();
  opts.signal?.addEventListener('abort', () => stop.abort());
  let lost: string | undefined;
  const connection = await openRedis(target, (message) => {
    lost = message;
    stop.abort();
  });
  const name = queueName(plan.id, dir);
  const queue = new Queue<QueueJobData, QueueJobResult>(name, { connection });
  // QueueEvents blocks on its connection: a second one (BullMQ does not close connections it was given).
  const eventsConnection = connection.duplicate();
  // A duplicate has none of the first's listeners: without one, ioredis prints every failed reconnect when Redis goes away.
  eventsConnection.on('error', () => {});
  const events = new QueueEvents(name, { connection: eventsConnection });
  await events.waitUntilReady();
  const version = runnerVersion();
  await connection.multi().sadd(REGISTRY.sweeps, name).hset(REGISTRY.sweep(name), { sweep: plan.id, queue: name, out: dir, version, state: 'running' }).exec();
  const stopped = new Promise<undefined>((done) => stop.signal.addEventListener('abort', () => done(undefined)));
  try {
    const result = await driveSweep(plan, { out: opts.out, slots: opts.jobs, failFast: opts.failFast, signal: stop.signal, onEvent: opts.onEvent }, {
      async run(job, trial, known) {
        try {
          return await enqueue(job, trial, known);
        } catch (err) {
          if (!isConnectionGone(err)) throw err;
          lost ??= `lost the connection to Redis at ${target.shown} (${(err as Error).message})`;
          stop.abort();
          return undefined;
        }
      },
      stop() {},
      close() {},
    });
    if (lost) throw new RunnerError(`${lost}; the sweep's finished trials are kept in ${dir}; run the sweep again once Redis is back`, 1);
    // Done: the sweep leaves the registry (its workers stop serving it) and its queue goes.
    if (!opts.signal?.aborted) {
      await connection.multi().srem(REGISTRY.sweeps, name).hset(REGISTRY.sweep(name), 'state', 'done').exec();
      await queue.obliterate({ force: true });
    }
    return result;
  } finally {
    // A Redis that is gone does not answer the closing either: wait for it a moment at most.
    await Promise.race([Promise.allSettled([events.close(), queue.close()]), new Promise((done) => setTimeout(done, 2000).unref())]);
    eventsConnection.disconnect();
    connection.disconnect();
  }

  /** Puts one job on the queue (unless a coordinator before this one did) and waits for a worker's answer. */
  async function enqueue(job: Job, trial: Trial, known: string | undefined): Promise<Result | undefined> {
    const until = untilOf(plan, job);
    const data: QueueJobData = {
      version, sweep: plan.id, hash: trial.hash, spec: resolve(plan.file), sets: trialSets(plan, trial), out: dir, job,
      ...(until ? { until } : {}), ...(known ? { known } : {}), ...sweepSettings(opts),
    };
    // One id per job: a coordinator started again finds the job (done, or still queued) instead of adding it twice.
    const jobId = `${trial.hash}-${job.rung}-${job.epochs}`;
    const queued = (await QueuedJob.fromId<QueueJobData, QueueJobResult>(queue, jobId)) ?? (await queue.add('trial', data, { jobId, removeOnComplete: false, removeOnFail: false }));
    let answer: QueueJobResult | undefined;
    let error: string | undefined;
    try {
      answer = await Promise.race([queued.waitUntilFinished(events), stopped]);
    } catch (err) {
      error = `refused or failed on a worker: ${(err as Error).message}`;
    }
    if (stop.signal.aborted) return undefined;
    const run = answer?.runDir ? readRun(answer.runDir) : undefined;
    return resultOf(plan, job, run, error ?? answer?.error);
  }
}
