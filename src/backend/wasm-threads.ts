import { createRequire } from 'node:module';
import os from 'node:os';
import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';

/**
 * Multithreaded wasm under Node. tfjs-backend-wasm ships a threaded SIMD build whose XNNPACK runs
 * matMul and conv on a pthread pool, but under Node three things keep it single-threaded:
 * 1. its WASM_HAS_MULTITHREAD_SUPPORT flag answers false whenever it runs in Node;
 * 2. Emscripten starts each pthread worker from a blob: URL, which worker_threads refuses
 *    (ERR_WORKER_PATH), and posts the script a worker loads as a Blob, which the worker can only
 *    read from a file path;
 * 3. the backend caps its threads at os.cpus().length / 2 (it assumes two hyperthreads per core).
 * `withWasmThreads` answers each for the duration of the backend's start: a Worker class that runs
 * the package's own worker script (wasm-out/*.worker.js) from source and hands the worker the path
 * of the threaded build instead of the Blob, and an os.cpus that reports two entries per thread
 * asked for. Both are put back once the backend has started; the pool is made then and not grown.
 */

const require = createRequire(import.meta.url);
const THREADED_BUILD = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');

/** The source of Emscripten's pthread worker, as the package ships it. */
function workerSource(): string {
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as { wasmWorkerContents: string };
  // The shipped string holds "\n" escapes as real newlines inside string literals (tfjs escapes them the same way before making its Blob).
  return wasmWorkerContents.replace(/\n/g, '\\n');
}

interface LoadMessage { cmd?: unknown; urlOrBlob?: unknown }

/** A pthread worker: the package's worker script run from source, never holding the process open. */
function pthreadWorkerClass(source: string) {
  return class PthreadWorker extends NodeWorker {
    constructor(_blobUrl: unknown, options?: WorkerOptions) {
      super(source, { ...options, eval: true });
      this.unref();
    }

    /** Emscripten refs a worker while its thread runs; XNNPACK's threads run until exit, so they would keep every process alive. */
    override ref(): void {}

    override postMessage(message: unknown, transfer?: Parameters<NodeWorker['postMessage']>[1]): void {
      const m = message as LoadMessage | null;
      // 'load' carries the main script as a Blob; the worker reads it with fs.readFileSync, so it gets the file.
      const fixed = m && m.cmd === 'load' && typeof m.urlOrBlob !== 'string' ? { ...m, urlOrBlob: THREADED_BUILD } : message;
      super.postMessage(fixed, transfer);
    }
  };
}

/** Runs `start` (which starts the wasm backend) with Emscripten's pthreads working under Node and `threads` threads granted. */
export async function withWasmThreads<T>(threads: number, start: () => Promise<T>): Promise<T> {
  const globalWorker = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  const cpus = os.cpus;
  const Worker = pthreadWorkerClass(workerSource());
  // Emscripten assigns worker_threads' Worker to the global at start; the setter keeps ours.
  Object.defineProperty(globalThis, 'Worker', { configurable: true, get: () => Worker, set: () => {} });
  os.cpus = () => {
    const real = cpus();
    return Array.from({ length: 2 * threads }, (_, i) => real[i % real.length]!);
  };
  try {
    return await start();
  } finally {
    os.cpus = cpus;
    if (globalWorker) Object.defineProperty(globalThis, 'Worker', globalWorker);
    else delete (globalThis as { Worker?: unknown }).Worker;
  }
}
