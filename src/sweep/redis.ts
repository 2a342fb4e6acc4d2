import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { BackendChoice, ThreadsChoice } from '../backend/select.js';
import { RunnerError } from '../core/errors.js';

/** A Redis server as `--queue` names it, and how messages show it (the password hidden). */
export interface RedisTarget { readonly url: string; readonly shown: string }

/** `--queue redis://[user:password@]host:port[/db]` (or rediss:// for TLS), checked before anything connects. */
export function parseQueueUrl(text: string): RedisTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RunnerError(`--queue '${text}': not a URL; expected redis://host:port[/db]`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new RunnerError(`--queue '${text}': expected a redis:// or rediss:// URL, not ${url.protocol}//`);
  if (url.pathname !== '' && url.pathname !== '/' && !/^\/\d+$/.test(url.pathname)) throw new RunnerError(`--queue '${text}': the path must be a database number (/0, /1, ...)`);
  const shown = url.password ? text.replace(`:${url.password}@`, ':***@') : text;
  return { url: text, shown };
}

/** Seconds a connection may be down before runner gives up on it (mid-sweep: workers keep their finished runs and exit 1). */
const GIVE_UP_AFTER_MS = 5000;
const RETRY_MS = 250;

/** Why Redis did not answer, in words: refused, no such host, the password, or silence. */
function why(err: unknown, target: RedisTarget): string {
  const text = (err as Error).message ?? String(err);
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(text)) return `Redis at ${target.shown} refused the credentials (${text.split('\n')[0]}); put the password in the URL: redis://:password@host:port`;
  if (/ECONNREFUSED/.test(text)) return `cannot reach Redis at ${target.shown}: connection refused (is redis-server running there?)`;
  if (/ENOTFOUND|EAI_AGAIN/.test(text)) return `cannot reach Redis at ${target.shown}: no such host`;
  return `cannot reach Redis at ${target.shown}: ${text}`;
}

/**
 * A connection for BullMQ, checked first (a PING within a few seconds, or a RunnerError naming the
 * URL, exit 2). Once up, a connection down for more than 5 s is given up: `onLost` is called once.
 */
export async function openRedis(target: RedisTarget, onLost: (message: string) => void): Promise<Redis> {
  const probe = new Redis(target.url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // ioredis rejects with "Connection is closed"; the cause (refused, no such host) came as an error event.
  let cause: unknown;
  probe.on('error', (err) => void (cause ??= err));
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new RunnerError(why(cause ?? err, target), 2, ['start redis-server, or give --queue the URL of a running one']);
  } finally {
    probe.disconnect();
  }
  const client = new Redis(target.url, { maxRetriesPerRequest: null, retryStrategy: (times) => (times * RETRY_MS > GIVE_UP_AFTER_MS ? null : RETRY_MS) });
  let lost = false;
  client.on('error', () => {});
  client.on('end', () => {
    if (!lost) onLost(`lost the connection to Redis at ${target.shown} (no answer for ${GIVE_UP_AFTER_MS / 1000} s)`);
    lost = true;
  });
  return client;
}

/** The keys the coordinator and workers share: the set of sweep queues under way, and each one's record (sweep id, folder, runner version, state). */
export const REGISTRY = { sweeps: 'runner:sweeps', sweep: (queue: string) => `runner:sweep:${queue}` } as const;

/** The BullMQ queue of a sweep: named after its id and its folder (the same spec swept into two folders makes two queues). */
export const queueName = (sweepId: string, dir: string): string => `runner-${sweepId}-${createHash('sha256').update(dir).digest('hex').slice(0, 8)}`;

/** Whether an error is ioredis saying the connection is gone (Redis went away mid-sweep). */
export const isConnectionGone = (err: unknown): boolean => /Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE/.test((err as Error)?.message ?? '');

/** What a queued job carries: the trial as a sweep worker runs it, where, and which runner version planned it. */
export interface QueueJobData {
  readonly version: string;
  readonly sweep: string;
  readonly hash: string;
  readonly spec: string;
  readonly sets: readonly string[];
  readonly out: string;
  /** The job: its rung's epochs (0: the trial's own), and the run its last result named. */
  readonly job: { readonly type: 'start' | 'promote'; readonly trial: string; readonly bracket: number; readonly rung: number; readonly epochs: number };
  readonly until?: { readonly epochs: number; readonly reason: string };
  readonly known?: string;
  readonly backend?: BackendChoice;
  readonly threads?: ThreadsChoice;
  readonly noCache?: boolean;
}

/** What a worker answers: the run folder, and why it did not end well if it did not. */
export interface QueueJobResult { readonly runDir?: string; readonly error?: string }
