import { DataSession, type DataSettings } from '../data/session.js';
import { planRun } from '../pipeline/plan.js';
import { runExperiment, type RunIO, type RunOutcome } from '../pipeline/run.js';
import type { BackendChoice, ThreadsChoice } from '../backend/select.js';

/** What `runner run` takes: the spec, its overrides, where the run folder goes, and the terminal's progress, warnings and Ctrl-C. */
export interface RunCommandOptions extends RunIO {
  readonly spec: string;
  readonly set?: readonly string[];
  readonly out?: string;
  readonly backend?: BackendChoice;
  /** --threads: overrides the spec's threads. */
  readonly threads?: ThreadsChoice;
  readonly noCache?: boolean;
  readonly argv?: readonly string[];
  /** Where data and the stage cache are kept, and whether downloads may be tried (default: from $RUNNER_CACHE and $RUNNER_OFFLINE). */
  readonly data?: DataSettings;
}

/** `runner run`: plans the spec (every problem before anything is written), then runs it into a new folder under --out. */
export async function runCommand(opts: RunCommandOptions): Promise<RunOutcome> {
  const plan = planRun(opts.spec, opts.set, { session: new DataSession(opts.data) });
  return runExperiment(plan, { ...opts, out: opts.out ?? 'runs' });
}
