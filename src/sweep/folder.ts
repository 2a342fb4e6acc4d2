import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunnerError } from '../core/errors.js';
import { writeJsonAtomic } from '../core/files.js';
import type { SweepMeta } from '../runs/record.js';
import type { RunView } from '../runs/reader.js';
import type { SweepPlan, Trial } from './plan.js';
import { bracketsOf } from './scheduler.js';

/** Where a trial's `runner run` output goes: `<sweep folder>/logs/<trial>.log`. */
export const trialLog = (dir: string, hash: string): string => join(dir, 'logs', `${hash}.log`);

/** The trial's log file, its logs/ folder made if need be (a trial about to run writes there). */
export function openTrialLog(dir: string, hash: string): string {
  mkdirSync(join(dir, 'logs'), { recursive: true });
  return trialLog(dir, hash);
}

/** Where a trial stands before the sweep runs: already completed here, to run, or another shard's. */
export type TrialState = 'done' | 'todo' | 'other shard';

/** A trial with where it stands, and its latest run in the sweep folder. */
export interface PlannedTrial { trial: Trial; shard: number; state: TrialState; previous?: RunView }

/** What happened to one trial this time. */
export interface TrialOutcome {
  trial: Trial;
  status: 'completed' | 'failed' | 'interrupted' | 'skipped' | 'stopped' | 'running';
  run?: string;
  error?: string;
  /** Adaptive sweeps: the rung the trial last reached (0-based, in its bracket) and its epochs. */
  rung?: { bracket: number; index: number; epochs: number };
}

/** sweep.json: the sweep's id, metric and every trial with its shard, parameters and status (rewritten as trials end). */
export function writeSweepJson(dir: string, plan: SweepPlan, planned: readonly PlannedTrial[], outcomes: ReadonlyMap<string, TrialOutcome>): void {
  const trials = planned.map((p) => {
    const o = outcomes.get(p.trial.hash);
    return {
      trial: p.trial.hash, variant: p.trial.variant, shard: p.shard, params: p.trial.params, seed: p.trial.seed,
      status: o?.status ?? (p.state === 'done' ? 'completed' : p.state === 'other shard' ? 'other shard' : 'pending'),
      run: o?.run ?? p.previous?.id ?? null,
      ...(o?.error ? { error: o.error } : {}),
      ...(o?.rung ? { rung: o.rung } : {}),
    };
  });
  const c = plan.scheduler;
  const scheduler = c ? { scheduler: { kind: c.kind, resource: 'train.epochs', min: c.min, max: c.max, reductionFactor: c.eta, brackets: bracketsOf(c, plan.trials.length).map((b) => b.rungs) } } : {};
  writeJsonAtomic(join(dir, 'sweep.json'), { formatVersion: 1, id: plan.id, spec: plan.file, method: plan.sweep.method, metric: plan.sweep.metric, ...scheduler, trials });
}

interface SweepFile { id?: unknown; metric?: { name?: unknown; goal?: unknown }; scheduler?: { kind?: unknown; max?: unknown }; trials?: { trial?: unknown; params?: unknown }[] }

/**
 * What a trial run records as its sweep (a sweep worker running trial HASH into the sweep folder):
 * read from the sweep.json that `runner sweep` wrote there, checked, and tied to the spec hash
 * of the run itself so that a trial cannot be recorded under another's parameters.
 */
export function trialMeta(dir: string, hash: string, specHash: string): SweepMeta {
  const file = join(dir, 'sweep.json');
  const bad = (why: string) => new RunnerError(`sweep trial ${hash}: ${why}`, 2, ['trials are run by runner sweep; run the sweep again']);
  if (!existsSync(file)) throw bad(`there is no sweep.json in ${dir}`);
  let sweep: SweepFile;
  try {
    sweep = JSON.parse(readFileSync(file, 'utf8')) as SweepFile;
  } catch (err) {
    throw bad(`${file} is not valid JSON (${(err as Error).message})`);
  }
  const listed = Array.isArray(sweep.trials) ? sweep.trials.find((t) => t.trial === hash) : undefined;
  const { name, goal } = sweep.metric ?? {};
  if (typeof sweep.id !== 'string' || typeof name !== 'string' || (goal !== 'maximize' && goal !== 'minimize')) throw bad(`${file} is not a sweep file (no id or metric)`);
  if (!listed || typeof listed.params !== 'object' || listed.params === null) throw bad(`${file} lists no trial ${hash}`);
  if (hash !== specHash) throw bad(`the spec with these overrides has hash ${specHash}, not the trial's`);
  const { kind, max } = sweep.scheduler ?? {};
  const scheduler = (kind === 'asha' || kind === 'hyperband') && typeof max === 'number' ? { scheduler: { kind: kind as 'asha' | 'hyperband', max } } : {};
  return { id: sweep.id, trial: hash, metric: name, goal, params: listed.params as Record<string, unknown>, ...scheduler };
}
