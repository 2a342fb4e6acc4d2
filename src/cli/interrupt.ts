let cleanup: (() => void) | undefined;

/** What a second Ctrl-C does before exiting at once: mark the run interrupted (synchronously, atomically). */
export function interruptCleanup(fn: (() => void) | undefined): void {
  cleanup = fn;
}

/** Aborts on the first Ctrl-C or SIGTERM so fit stops after the current batch; a second one exits at once. */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) {
      cleanup?.();
      process.exit(130);
    }
    process.stderr.write('\nrunner: interrupted; stopping after this batch (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}
