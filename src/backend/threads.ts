import { availableParallelism } from 'node:os';

/** How many threads a backend computes on: a count, or 'auto' (every core this process may use). */
export type ThreadsChoice = number | 'auto';

/** XNNPACK's pool in tfjs-backend-wasm holds at most 8 threads. */
export const MAX_WASM_THREADS = 8;

/** The thread count a choice means on this machine (`cores`: what 'auto' means, default every core). */
export function threadCount(choice: ThreadsChoice, cores = availableParallelism()): number {
  return Math.min(choice === 'auto' ? cores : choice, MAX_WASM_THREADS);
}

/** A --threads value: 'auto' or a whole number from 1 to 8; otherwise the reason it is not. */
export function parseThreads(text: string): ThreadsChoice | { problem: string } {
  if (text === 'auto') return 'auto';
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    return { problem: `expected auto or a whole number from 1 to ${MAX_WASM_THREADS}, got '${text}'` };
  }
  return n;
}
