import { appendFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BackendChoice, ThreadsChoice } from '../backend/select.js';
import { EXIT, exitCodeOf, formatError, messageOf } from '../core/errors.js';
import { planRun } from '../pipeline/plan.js';
import { resumeRun } from '../pipeline/resume.js';
import { runExperiment, type RunOptions, type RunOutcome } from '../pipeline/run.js';
import type { StopAt } from '../stages/stage.js';
import { formatOutcome } from '../results/outcome.js';
import { specHash } from '../spec/hash.js';
import { trialMeta } from './folder.js';

/** What the sweep asks a worker process to run: one trial, as `runner run` would with these overrides. */
export interface TrialRequest {
  readonly type: 'trial';
  readonly hash: string;
  readonly spec: string;
  readonly sets: readonly string[];
  /** The sweep folder: the run folder goes there, and its sweep.json names the trial. */
  readonly out: string;
  readonly backend?: BackendChoice;
  /** runner sweep --threads, if given. */
  readonly threads?: ThreadsChoice;
  /** What threads 'auto' means for a trial: its share of the cores (cores / -j). */
  readonly cores: number;
  readonly noCache?: boolean;
  /** Where the trial's warnings and errors go. */
  readonly log: string;
  /** An adaptive sweep's promotion: continue this run folder from its checkpoint instead of starting a run. */
  readonly resume?: string;
  /** An adaptive sweep's rung: stop after this many epochs. */
  readonly until?: StopAt;
  /** The queue gave this job to this worker after its last worker stopped answering: resume its run even if run.json says running. */
  readonly takeOver?: boolean;
}

/** What a worker answers when a trial has ended: its run folder (whose run.json says how it went), or why there is none. */
export interface TrialDone { readonly type: 'done'; readonly hash: string; readonly runDir?: string; readonly error?: string; readonly exitCode: number }

/** The messages a worker takes: a trial, or stop (the sweep was interrupted: end the current trial as Ctrl-C would). */
export type WorkerRequest = TrialRequest | { readonly type: 'stop' };

/** A trial's first run: planned as runner run plans it, recorded as the sweep's trial. */
async function startTrial(m: TrialRequest, common: Omit<RunOptions, 'out' | 'sweep' | 'argv'>): Promise<RunOutcome> {
  const plan = planRun(m.spec, m.sets);
  const sweep = trialMeta(resolve(m.out), m.hash, specHash(plan.spec));
  const argv = ['run', m.spec, ...m.sets.flatMap((s) => ['--set', s]), '--out', m.out];
  return runExperiment(plan, { ...common, out: m.out, sweep, argv });
}

/**
 * `runner sweep-worker` (started by runner sweep): runs the trials it is sent, one at a time, in
 * this one process, so that each trial does not pay Node's start and TensorFlow.js's load again.
 * Every trial is a whole run (its own plan, data session, lock, seeded Math.random), as a fresh
 * `runner run` would make it. It ends when the sweep disconnects.
 */
export function serveTrials(): Promise<number> {
  let controller = new AbortController();
  let signals = 0;
  let cleanup: (() => number) | undefined;
  // Ctrl-C reaches the workers too: the first ends the current trial after its batch, a second quits.
  // The sweep's stop (sent on that same Ctrl-C) is not a second one.
  const onSignal = () => {
    if (++signals > 1) process.exit(cleanup?.() ?? EXIT.interrupted);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const interrupt = { get signal() { return controller.signal; }, beforeExit: (fn: () => number) => void (cleanup = fn) };
  // A stop (or Ctrl-C) that comes before the trial it was meant for has started still ends that
  // trial; the next trial gets a fresh signal.
  const runOne = async (m: TrialRequest): Promise<TrialDone> => {
    const warn = (msg: string) => appendFileSync(m.log, `runner: warning: ${msg}\n`);
    try {
      const common = { backend: m.backend, threads: m.threads, cores: m.cores, noCache: m.noCache, warn, interrupt, ...(m.until ? { until: m.until } : {}) };
      const outcome = m.resume ? await resumeRun(m.resume, { ...common, ...(m.takeOver ? { takeOver: true } : {}) }) : await startTrial(m, common);
      // The lines runner run would print: the log holds what the trial's own terminal would have shown.
      appendFileSync(m.log, formatOutcome(outcome));
      return { type: 'done', hash: m.hash, runDir: outcome.runDir, exitCode: outcome.exitCode };
    } catch (err) {
      appendFileSync(m.log, `${formatError(err)}\n`);
      return { type: 'done', hash: m.hash, error: messageOf(err), exitCode: exitCodeOf(err) };
    } finally {
      if (controller.signal.aborted) {
        controller = new AbortController();
        signals = 0;
      }
    }
  };
  return new Promise((done) => {
    let queue = Promise.resolve();
    process.on('message', (m: WorkerRequest) => {
      if (m.type === 'stop') controller.abort();
      else queue = queue.then(async () => void process.send?.(await runOne(m)));
    });
    // The sweep let go of this worker, or died (killed): nobody is left to report to, so a trial
    // still under way ends as Ctrl-C would end it (checkpointed, resumable by the next sweep).
    process.on('disconnect', () => {
      controller.abort();
      void queue.then(() => done(EXIT.ok));
    });
  });
}
