import { createRequire } from 'node:module';
import * as tf from './tf.js';
import { RunnerError } from '../core/errors.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendChoice = BackendName | 'auto';

/** The backend a run asked for, the one it got, and why others were passed over. */
export interface BackendInfo {
  readonly requested: BackendChoice;
  readonly used: BackendName;
  readonly skipped: readonly string[];
}

const require = createRequire(import.meta.url);

/** Registers one backend; throws with the reason it is not available. */
async function activate(name: BackendName): Promise<void> {
  if (name === 'tensorflow') {
    try {
      require('@tensorflow/tfjs-node');
    } catch (err) {
      throw new Error(`@tensorflow/tfjs-node does not load (${(err as Error).message.split('\n')[0]})`);
    }
  }
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    (await import('./wasm-conv-grad.js')).registerWasmTrainingKernels();
  }
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
  await tf.ready();
}

/** auto = tensorflow if tfjs-node loads, else wasm, else cpu; an explicit choice must work. */
export async function selectBackend(requested: BackendChoice): Promise<BackendInfo> {
  const candidates: BackendName[] = requested === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [requested];
  const skipped: string[] = [];
  for (const name of candidates) {
    try {
      await activate(name);
      return { requested, used: name, skipped };
    } catch (err) {
      skipped.push(`${name}: ${(err as Error).message}`);
    }
  }
  const hint = requested === 'tensorflow' ? '; install @tensorflow/tfjs-node (needs internet for libtensorflow) or use --backend wasm' : '; try --backend cpu';
  const reasons = requested === 'auto' ? skipped.join('; ') : skipped.map((s) => s.slice(s.indexOf(': ') + 2)).join('; ');
  throw new RunnerError(`backend '${requested}' is not available: ${reasons}${hint}`);
}
