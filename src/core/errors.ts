/** Exit codes: 0 ok, 1 the work failed, 2 usage or spec error, 130 interrupted (Ctrl-C, as shells report SIGINT). */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** Base class for every error a person can act on; carries its exit code. */
export class RunnerError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A stage that ends the run early on purpose, not as a failure: fit stopped at an adaptive
 * sweep's rung (its checkpoint written, so the run can go on later). The run is recorded as stopped.
 */
export class RunPaused extends Error {
  constructor(message: string, readonly epoch: number) {
    super(message);
    this.name = 'RunPaused';
  }
}

/** One problem in a spec, located in the YAML (or in a --set override). */
export interface SpecProblem {
  readonly path: string;
  readonly line?: number;
  readonly col?: number;
  readonly source?: string;
  /** A problem in a base spec (extends:): the base's file, and where the spec included it. */
  readonly file?: string;
  readonly via?: string;
  readonly message: string;
}

/** Problems listed in full before "and N more". */
const MAX_PROBLEMS = 50;

/** A spec that failed to parse or validate: every problem at once (the first 50 listed). */
export class SpecError extends RunnerError {
  constructor(
    readonly file: string,
    readonly problems: readonly SpecProblem[],
  ) {
    const n = problems.length;
    // The first problems, then a count: a hostile spec cannot fill the screen.
    const shown = problems.slice(0, MAX_PROBLEMS).map(formatProblem);
    if (n > MAX_PROBLEMS) shown.push(`and ${n - MAX_PROBLEMS} more problems`);
    super(`${file} is invalid (${n} problem${n === 1 ? '' : 's'})`, EXIT.usage, shown);
  }
}

/** Bad data files: wrong magic number, truncated, mismatched counts. */
export class DataError extends RunnerError {
  constructor(message: string, details: readonly string[] = []) {
    super(message, EXIT.failed, details);
  }
}

/** Formats one spec problem as `key (line L, col C): message`. */
export function formatProblem(p: SpecProblem): string {
  const where: string[] = [];
  if (p.source) where.push(p.source);
  const at = p.line !== undefined ? `line ${p.line}, col ${p.col ?? 1}` : undefined;
  if (p.file) where.push(`${p.file}${at ? ` ${at}` : ''}${p.via ? `; included from ${p.via}` : ''}`);
  else if (at) where.push(at);
  if (p.path === '') return `${where.length ? `${where.join(', ')}: ` : ''}${p.message}`;
  return `${p.path}${where.length ? ` (${where.join(', ')})` : ''}: ${p.message}`;
}

/** Renders any thrown value for the terminal; stack traces only for bugs or --verbose. */
export function formatError(err: unknown, verbose = false): string {
  if (err instanceof RunnerError) {
    const lines = [`runner: ${err.message}`, ...err.details.map((d) => `  ${d}`)];
    if (verbose && err.stack) lines.push(err.stack);
    return lines.join('\n');
  }
  const e = err instanceof Error ? err : new Error(String(err));
  const lines = [`runner: internal error: ${e.message}`];
  lines.push(verbose && e.stack ? e.stack : '  (run with --verbose for the stack trace; this is a bug, please report it)');
  return lines.join('\n');
}

/** Exit code for any thrown value: a RunnerError's own, else 1. */
export function exitCodeOf(err: unknown): number {
  return err instanceof RunnerError ? err.exitCode : EXIT.failed;
}

/** The message of any thrown value, never `[object Object]`. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}
