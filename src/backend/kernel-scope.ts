import * as tf from './tf.js';

/* What runner's training kernels share: calling the wasm backend's own kernels, and reaching its heap. */

export type Info = tf.TensorInfo;
export type KernelFn = (args: { inputs: unknown; backend: unknown; attrs?: Record<string, unknown> }) => Info;

/** A kernel the wasm backend already has, called directly (as tfjs's own kernels compose each other). */
export function wasmKernel(name: string): KernelFn {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`the wasm backend has no ${name} kernel`);
  return k.kernelFunc as unknown as KernelFn;
}

export interface ConvAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Runs wasm kernels on one backend, keeping every intermediate for `dispose`. */
export class KernelScope {
  private readonly temps: Info[] = [];

  constructor(private readonly backend: unknown) {}

  run(name: string, inputs: unknown, attrs?: Record<string, unknown>): Info {
    return this.keep(wasmKernel(name)({ inputs, backend: this.backend, attrs }));
  }

  /** A tensor made here that goes with the rest. */
  keep(t: Info): Info {
    this.temps.push(t);
    return t;
  }

  /** The last kernel's output, reshaped to `shape` and not disposed with the rest. */
  result(x: Info, shape: number[]): Info {
    return wasmKernel('Reshape')({ inputs: { x }, backend: this.backend, attrs: { shape } });
  }

  /** Each disposeData drops one reference (Reshape shares storage), so a result keeps its storage alive. */
  dispose(): void {
    const wasm = this.backend as { disposeData(id: object): void };
    for (const t of this.temps) wasm.disposeData(t.dataId);
  }
}

export const SLICE_MASKS = { beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 };

/** The wasm backend's own tensor storage: new outputs, and float32 views of its heap. */
export interface WasmHeap {
  makeOutput(shape: number[], dtype: 'float32'): Info;
  typedArrayFromHeap(t: Info): Float32Array;
}
