import * as tf from '../backend/tf.js';
import { wasmAdam } from './wasm-adam.js';

/**
 * Fused optimizer updates: one kernel per weight tensor instead of the ten-odd small ops of
 * tfjs's optimizers, working in the backend's own memory (the cpu backend's typed arrays, the
 * wasm backend's heap). Slots (moments) are updated in place; the new weights go to a new output
 * tensor, because the wasm backend caches packed weights per tensor for its matrix multiplies and
 * would not see an in-place change. Every intermediate is rounded to float32 (Math.fround) in the
 * same order as tfjs's ops, so results match the stock optimizers; one difference: optimizer state
 * below FLT_MIN is flushed to zero (subnormal arithmetic is slow, and such state moves no weight).
 */
export const KERNELS = { adam: 'RunnerAdamUpdate', sgd: 'RunnerSgdUpdate', momentum: 'RunnerMomentumUpdate', rmsprop: 'RunnerRmspropUpdate' } as const;

/** Backends whose memory the kernels can address. */
export const FUSED_BACKENDS = ['cpu', 'wasm'] as const;

const f = Math.fround;

/** The smallest normal float32: optimizer state below it is flushed to zero (see wasm-adam.ts's flush for why). */
const FLT_MIN = 1.1754943508222875e-38;
/** A slot value, flushed to zero when subnormal. */
const ftz = (x: number) => (Math.abs(x) < FLT_MIN ? 0 : x);

interface CpuBackend { data: { get(id: object): { values: Float32Array } }; refCount(id: object): number; makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo }
interface WasmBackend {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  refCount(id: object): number;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  getMemoryOffset(id: object): number;
  /** The single-threaded build exports its memory; the threaded one makes it in JS (shared) and imports it. */
  wasm: { asm: { memory?: WebAssembly.Memory }; wasmMemory?: WebAssembly.Memory };
}

/** A float32 view of a tensor's storage. A writable one refuses shared storage: an in-place write would change another tensor too. */
function view(backend: unknown, t: tf.TensorInfo, backendName: string, writable: boolean): Float32Array {
  const b = backend as CpuBackend & WasmBackend;
  if (writable && b.refCount(t.dataId) !== 1) throw new Error(`fused optimizer: tensor storage is shared (refCount ${b.refCount(t.dataId)}); cannot update it in place`);
  return backendName === 'wasm' ? b.typedArrayFromHeap(t) : b.data.get(t.dataId).values;
}

/** A new float32 tensor of this backend, and a view to fill it through. */
function output(backend: unknown, shape: number[], backendName: string): { info: tf.TensorInfo; values: Float32Array } {
  const b = backend as CpuBackend & WasmBackend;
  if (backendName === 'wasm') {
    const info = b.makeOutput(shape, 'float32');
    return { info, values: b.typedArrayFromHeap(info) };
  }
  const values = new Float32Array(shape.reduce((a, c) => a * c, 1));
  return { info: b.makeTensorInfo(shape, 'float32', values), values };
}

type Attrs = Record<string, number>;
/** Reads weights `w`, writes the new weights to `out` and the slots in place. */
type Update = (out: Float32Array, arrays: Float32Array[], a: Attrs) => void;

/** Adam, as tfjs's AdamOptimizer.applyGradients computes it. Arrays: weight, gradient, m, v. */
const adam: Update = (out, [w, g, m, v], a) => {
  const { beta1, beta2, oneMinusBeta1, oneMinusBeta2, oneMinusAccBeta1, oneMinusAccBeta2, epsilon, negLr } = a as Record<string, number>;
  for (let i = 0; i < w!.length; i++) {
    const gi = g![i]!;
    const mi = ftz(f(f(m![i]! * beta1!) + f(gi * oneMinusBeta1!)));
    const vi = ftz(f(f(v![i]! * beta2!) + f(f(gi * gi) * oneMinusBeta2!)));
    m![i] = mi;
    v![i] = vi;
    const mh = f(mi / oneMinusAccBeta1!);
    const vh = f(vi / oneMinusAccBeta2!);
    out[i] = f(f(f(mh / f(f(Math.sqrt(vh)) + epsilon!)) * negLr!) + w![i]!);
  }
};

/** Plain SGD: w + (-lr) * g. Arrays: weight, gradient. */
const sgd: Update = (out, [w, g], { negLr }) => {
  for (let i = 0; i < w!.length; i++) out[i] = f(f(negLr! * g![i]!) + w![i]!);
};

/** SGD with momentum (optionally Nesterov), as tfjs's MomentumOptimizer. Arrays: weight, gradient, accumulation. */
const momentum: Update = (out, [w, g, acc], { negLr, momentum: mo, nesterov }) => {
  for (let i = 0; i < w!.length; i++) {
    const gi = g![i]!;
    const ai = ftz(f(f(mo! * acc![i]!) + gi));
    acc![i] = ai;
    out[i] = nesterov ? f(f(negLr! * f(gi + f(ai * mo!))) + w![i]!) : f(f(negLr! * ai) + w![i]!);
  }
};

/** RMSProp (not centered: see semantic-rules), as tfjs's RMSPropOptimizer. Arrays: weight, gradient, mean square, moment. */
const rmsprop: Update = (out, [w, g, ms, mom], { decay, oneMinusDecay, lr, momentum: mo, epsilon }) => {
  for (let i = 0; i < w!.length; i++) {
    const gi = g![i]!;
    const msi = ftz(f(f(ms![i]! * decay!) + f(f(gi * gi) * oneMinusDecay!)));
    ms![i] = msi;
    const momi = ftz(f(f(mom![i]! * mo!) + f(f(gi * lr!) / f(Math.sqrt(f(msi + epsilon!))))));
    mom![i] = momi;
    out[i] = f(w![i]! - momi);
  }
};

const UPDATES: Record<keyof typeof KERNELS, Update> = { adam, sgd, momentum, rmsprop };

/** Adam on the wasm backend: the WebAssembly version of `adam`, on offsets into the backend's heap. */
function adamInWasm(b: WasmBackend, [w, g, m, v]: tf.TensorInfo[], a: Attrs): tf.TensorInfo {
  for (const t of [m!, v!]) if (b.refCount(t.dataId) !== 1) throw new Error('fused optimizer: slot storage is shared; cannot update it in place');
  const out = b.makeOutput(w!.shape, 'float32');
  const n = w!.shape.reduce((x, y) => x * y, 1);
  const offset = (t: tf.TensorInfo) => b.getMemoryOffset(t.dataId);
  wasmAdam((b.wasm.wasmMemory ?? b.wasm.asm.memory)!)(offset(w!), offset(g!), offset(m!), offset(v!), offset(out), n,
    a['beta1']!, a['beta2']!, a['oneMinusBeta1']!, a['oneMinusBeta2']!, a['oneMinusAccBeta1']!, a['oneMinusAccBeta2']!, a['epsilon']!, a['negLr']!);
  return out;
}

let registered = false;

/** Registers the fused kernels for the cpu and wasm backends (once). */
export function registerFusedKernels(): void {
  if (registered) return;
  registered = true;
  for (const [kind, kernelName] of Object.entries(KERNELS) as [keyof typeof KERNELS, string][]) {
    for (const backendName of FUSED_BACKENDS) {
      tf.registerKernel({
        kernelName,
        backendName,
        kernelFunc: ({ inputs, backend, attrs }) => {
          if (kind === 'adam' && backendName === 'wasm') return [adamInWasm(backend as WasmBackend, Object.values(inputs) as tf.TensorInfo[], attrs as unknown as Attrs)];
          // Inputs are (weight, gradient, slots...): only the slots are written in place.
          const infos = Object.values(inputs) as tf.TensorInfo[];
          const arrays = infos.map((t, i) => view(backend, t, backendName, i >= 2));
          const out = output(backend, infos[0]!.shape, backendName);
          UPDATES[kind](out.values, arrays, attrs as unknown as Attrs);
          return [out.info];
        },
      });
    }
  }
}
