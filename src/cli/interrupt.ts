import { EXIT } from '../core/errors.js';
import type { Interrupt } from '../pipeline/run.js';

/**
 * Ctrl-C and SIGTERM for one command: the first aborts the signal so fit stops after the current
 * batch; a second runs what the engine registered (mark the run interrupted, or nothing once its
 * record is final) and exits at once with the code that matches the record.
 */
export function terminalInterrupt(): Interrupt {
  const controller = new AbortController();
  let cleanup: (() => number) | undefined;
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(cleanup?.() ?? EXIT.interrupted);
    process.stderr.write('\nrunner: interrupted; stopping after this batch (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    beforeExit(fn) {
      cleanup = fn;
    },
  };
}
