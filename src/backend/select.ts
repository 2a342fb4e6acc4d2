import { createRequire } from 'node:module';
import * as tf from './tf.js';
import { RunnerError } from '../core/errors.js';
import { threadCount, type ThreadsChoice } from './threads.js';
import { withWasmThreads } from './wasm-threads.js';

export { threadCount, type ThreadsChoice } from './threads.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendChoice = BackendName | 'auto';

/** The backend a run asked for, the one it got, and why others were passed over. */
export interface BackendInfo {
  readonly requested: BackendChoice;
  readonly used: BackendName;
  readonly skipped: readonly string[];
  /**
   * The threads it computes on: wasm, XNNPACK's pool (fixed when the backend first starts in a
   * process); cpu, 1. Absent for tensorflow, which sizes its own pool.
   */
  readonly threads?: number;
}


const require = createRequire(import.meta.url);

/**
 * Starts the wasm backend on `threads` threads the first time; later calls in the same process
 * find it started (its pool cannot change) and get the count it has. Returns that count.
 */
async function activateWasm(threads: number): Promise<number> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  (await import('./training-kernels.js')).registerTrainingKernels(['wasm']);
  const start = async () => {
    if (!(await tf.setBackend('wasm'))) throw new Error("tf.setBackend('wasm') failed");
  };
  if (tf.findBackend('wasm')) await start();
  else if (threads <= 1) await start();
  else {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasm.setThreadsCount(threads);
    await withWasmThreads(threads, start);
  }
  await tf.ready();
  return wasm.getThreadsCount();
}

/** Registers one backend; throws with the reason it is not available. */
async function activate(name: BackendName): Promise<void> {
  if (name === 'tensorflow') {
    try {
      require('@tensorflow/tfjs-node');
    } catch (err) {
      throw new Error(`@tensorflow/tfjs-node does not load (${(err as Error).message.split('\n')[0]})`);
    }
  }
  if (name === 'cpu') (await import('./training-kernels.js')).registerTrainingKernels(['cpu']);
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
  await tf.ready();
}

/** auto = tensorflow if tfjs-node loads, else wasm, else cpu; an explicit choice must work. */
export async function selectBackend(requested: BackendChoice, threads: ThreadsChoice = 'auto', cores?: number): Promise<BackendInfo> {
  const candidates: BackendName[] = requested === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [requested];
  const skipped: string[] = [];
  for (const name of candidates) {
    try {
      if (name === 'wasm') return { requested, used: name, skipped, threads: await activateWasm(threadCount(threads, cores)) };
      await activate(name);
      return { requested, used: name, skipped, ...(name === 'cpu' ? { threads: 1 } : {}) };
    } catch (err) {
      skipped.push(`${name}: ${(err as Error).message}`);
    }
  }
  const hint = requested === 'tensorflow' ? '; install @tensorflow/tfjs-node (needs internet for libtensorflow) or use --backend wasm' : '; try --backend cpu';
  const reasons = requested === 'auto' ? skipped.join('; ') : skipped.map((s) => s.slice(s.indexOf(': ') + 2)).join('; ');
  throw new RunnerError(`backend '${requested}' is not available: ${reasons}${hint}`);
}
