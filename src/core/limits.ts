import { statSync, type Stats } from 'node:fs';
import { RunnerError } from './errors.js';

/** How much of a file or image runner will read: bounded, so a hostile input cannot take all memory or time. */
export interface Limits {
  /** Largest data file, or decompressed IDX file, in bytes ($RUNNER_MAX_FILE_MB). */
  readonly fileBytes: number;
  /** Largest image, in pixels ($RUNNER_MAX_PIXELS). */
  readonly pixels: number;
}

const MiB = 2 ** 20;

/** The limits: 1 GiB per file (Fashion-MNIST's largest is 47 MB decompressed) and 40 megapixels, unless the environment raises them. */
export function limitsFrom(env: NodeJS.ProcessEnv = process.env): Limits {
  const number = (name: string, fallback: number) => {
    const v = env[name];
    if (v === undefined || v === '') return fallback;
    const n = Number(v);
    if (!(n > 0)) throw new RunnerError(`$${name} is '${v}': expected a number > 0`);
    return n;
  };
  return { fileBytes: number('RUNNER_MAX_FILE_MB', 1024) * MiB, pixels: number('RUNNER_MAX_PIXELS', 40e6) };
}

/** `1.5 GiB`, `300 MiB`: a byte count for messages. */
export const bytesText = (n: number): string => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${Math.round(n / MiB)} MiB`);

/**
 * Checks that `file` is a regular file no larger than the limit before anything reads it: a
 * folder, a device (/dev/zero, /dev/urandom) or a FIFO is refused, never read or waited on.
 * Returns its stat, so callers that key caches on size and time need not stat it again.
 */
export function checkReadable(file: string, what: string, limits: Limits): Stats {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    throw new RunnerError(`${what} '${file}' does not exist`);
  }
  if (stat.isDirectory()) throw new RunnerError(`${what} '${file}' is a folder; expected a file`);
  if (!stat.isFile()) throw new RunnerError(`${what} '${file}' is not a regular file (a device, FIFO or socket); runner reads only files`);
  if (stat.size > limits.fileBytes) {
    throw new RunnerError(`${what} '${file}' is ${bytesText(stat.size)}, over the ${bytesText(limits.fileBytes)} runner reads`, 2, ['raise the limit with RUNNER_MAX_FILE_MB=<megabytes>']);
  }
  return stat;
}
