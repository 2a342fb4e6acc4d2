import type { BackendChoice, ThreadsChoice } from '../backend/select.js';
import { resumeRun } from '../pipeline/resume.js';
import type { RunIO, RunOutcome } from '../pipeline/run.js';
import { resolveRunArgs } from '../runs/reader.js';

/** What `runner resume` takes: the run, and where its progress, warnings and Ctrl-C come from. */
export interface ResumeOptions extends RunIO {
  readonly run: string;
  readonly runsDir?: string;
  readonly backend?: BackendChoice;
  readonly threads?: ThreadsChoice;
  readonly noCache?: boolean;
}

/**
 * `runner resume`: continues an interrupted (or failed, crashed, or stopped at a sweep's rung) run
 * from its last checkpoint, in the same folder, to the planned number of epochs, on the backend it used.
 */
export async function resumeCommand(opts: ResumeOptions): Promise<RunOutcome> {
  const [dir] = resolveRunArgs([opts.run], opts.runsDir);
  return resumeRun(dir!, opts);
}
