import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrialDone, TrialRequest } from './worker.js';

const BIN = fileURLToPath(new URL('../../bin/runner.js', import.meta.url));

/** The sweep's own settings a trial request carries, only those given: --backend, --threads, --no-cache. */
export const sweepSettings = (o: Pick<TrialRequest, 'backend' | 'threads' | 'noCache'>): Pick<TrialRequest, 'backend' | 'threads' | 'noCache'> =>
  ({ ...(o.backend ? { backend: o.backend } : {}), ...(o.threads ? { threads: o.threads } : {}), ...(o.noCache ? { noCache: true } : {}) });

/** What threads 'auto' means for one trial when `jobs` run at once on this machine: its share of the cores. */
export const coresPerTrial = (jobs: number): number => Math.max(1, Math.floor(availableParallelism() / jobs));

const alive = (w: ChildProcess) => w.connected && w.exitCode === null && w.signalCode === null;

/** A trial's end as the pool sees it: the worker's answer, or how the worker died. */
export type TrialEnd = TrialDone | { readonly type: 'died'; readonly code: number | null; readonly signal: string | null };

/**
 * Worker processes (`runner sweep-worker`) that run trials one after another, talking through
 * typed IPC messages. Started on first use; each one's own output (nothing, unless it crashes) is
 * kept in logs/worker-<n>.log.
 */
export class WorkerPool {
  private readonly idle: ChildProcess[] = [];
  private readonly all: ChildProcess[] = [];

  constructor(private readonly logDir: string) {}

  /** Runs one trial on an idle worker (or a new one) and resolves when it has ended. */
  async run(request: Omit<TrialRequest, 'type'>): Promise<TrialEnd> {
    let idle = this.idle.pop();
    while (idle && !alive(idle)) idle = this.idle.pop();
    const worker = idle ?? this.start();
    const end = await new Promise<TrialEnd>((resolve) => {
      const onMessage = (m: TrialDone) => {
        if (m.type !== 'done' || m.hash !== request.hash) return;
        worker.off('exit', onExit);
        worker.off('message', onMessage);
        resolve(m);
      };
      const onExit = (code: number | null, signal: string | null) => {
        worker.off('message', onMessage);
        resolve({ type: 'died', code, signal });
      };
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      // A worker killed before it could read the trial (Ctrl-C to the process group while it was
      // starting) closes its channel: the send fails, and its exit resolves the trial as died.
      worker.send({ type: 'trial', ...request } satisfies TrialRequest, (err) => {
        if (err && !alive(worker)) onExit(worker.exitCode, worker.signalCode);
      });
    });
    if (end.type === 'done') this.idle.push(worker);
    return end;
  }

  /** Asks every worker to end its current trial as Ctrl-C would (the sweep was interrupted). */
  stop(): void {
    for (const w of this.all) if (w.connected) w.send({ type: 'stop' });
  }

  /** The worker processes' ids (to watch or kill them from outside). */
  get pids(): number[] {
    return this.all.flatMap((w) => (w.pid === undefined ? [] : [w.pid]));
  }

  /** Lets the workers go: each exits once its trial (if any) has ended. */
  close(): void {
    for (const w of this.all) if (w.connected) w.disconnect();
  }

  private start(): ChildProcess {
    mkdirSync(this.logDir, { recursive: true });
    const log = createWriteStream(join(this.logDir, `worker-${this.all.length + 1}.log`), { flags: 'a' });
    const worker = fork(BIN, ['sweep-worker'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, FORCE_COLOR: '0' } });
    worker.stdout?.pipe(log);
    worker.stderr?.pipe(log);
    // A send to a worker that has just died emits 'error' (EPIPE); its exit says what happened.
    worker.on('error', () => {});
    this.all.push(worker);
    return worker;
  }
}
