import type * as tf from './tf.js';
import type { Info, KernelFn, WasmHeap } from './kernel-scope.js';

/**
 * ClipByValue that keeps NaN, as cpu's does: tfjs's wasm kernel turns NaN into the lower bound, so
 * a model whose predictions went NaN (diverged) had a finite cross-entropy on wasm (the loss clips
 * its predictions first) and fit's "loss became NaN" never fired: the run ended "completed" with
 * chance accuracy. The stock kernel clips; NaN inputs are then put back, in one pass.
 */
export function clipVia(stock: tf.KernelConfig) {
  return function clip(args: { inputs: { x: Info }; backend: unknown; attrs?: Record<string, unknown> }): Info {
    const out = (stock.kernelFunc as unknown as KernelFn)(args);
    if (args.inputs.x.dtype !== 'float32') return out;
    const heap = args.backend as WasmHeap;
    const [x, o] = [heap.typedArrayFromHeap(args.inputs.x), heap.typedArrayFromHeap(out)];
    for (let i = 0; i < x.length; i++) if (x[i] !== x[i]) o[i] = NaN;
    return out;
  };
}
