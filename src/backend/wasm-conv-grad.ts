import * as tf from './tf.js';

type Info = tf.TensorInfo;
type KernelFn = (args: { inputs: unknown; backend: unknown; attrs?: Record<string, unknown> }) => Info;

/** A kernel the wasm backend already has, called directly (as tfjs's own kernels compose each other). */
function wasmKernel(name: string): KernelFn {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`the wasm backend has no ${name} kernel`);
  return k.kernelFunc as unknown as KernelFn;
}

interface ConvAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Runs wasm kernels on one backend, keeping every intermediate for `dispose`. */
class KernelScope {
  private readonly temps: Info[] = [];

  constructor(private readonly backend: unknown) {}

  run(name: string, inputs: unknown, attrs?: Record<string, unknown>): Info {
    const out = wasmKernel(name)({ inputs, backend: this.backend, attrs });
    this.temps.push(out);
    return out;
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

const SLICE_MASKS = { beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 };

/**
 * Conv2DBackpropFilter for the wasm backend, which tfjs 4.22 does not register (so no conv net can
 * train on it). The filter gradient is one matrix product: the input window each filter tap sees
 * (a strided slice of the padded input), stacked over taps and channels, times dy, both flattened
 * over (batch, outRow, outCol):
 *   dW[(kh, kw, ci), co] = X[(kh, kw, ci), n] . dy[n, co]
 * The input is transposed once to channels-first, so each tap's slice is already a [ci, n] block
 * and the stacked rows come out in the filter's own (kh, kw, ci) order. Built from the wasm
 * backend's PadV2, Transpose, StridedSlice, Concat, Reshape and BatchMatMul (XNNPACK, on every
 * thread the backend has), so the work stays in wasm and in one large product.
 */
function conv2DBackpropFilter({ inputs, backend, attrs }: { inputs: { x: Info; dy: Info }; backend: unknown; attrs: ConvAttrs & { filterShape: [number, number, number, number] } }): Info {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only');
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const [b, , , ci] = x.shape as number[];
  const [kh, kw, , co] = filterShape;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, padInfo } = info;
  const n = b! * oh * ow;
  const k = new KernelScope(backend);
  const padded = padInfo.top || padInfo.bottom || padInfo.left || padInfo.right
    ? k.run('PadV2', { x }, { paddings: [[0, 0], [padInfo.top, padInfo.bottom], [padInfo.left, padInfo.right], [0, 0]], constantValue: 0 })
    : x;
  const channelsFirst = k.run('Transpose', { x: padded }, { perm: [3, 0, 1, 2] });
  const windows: Info[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      windows.push(k.run('StridedSlice', { x: channelsFirst }, {
        begin: [0, 0, i, j], end: [ci, b, i + sh * (oh - 1) + 1, j + sw * (ow - 1) + 1], strides: [1, 1, sh, sw], ...SLICE_MASKS,
      }));
    }
  }
  const stacked = k.run('Concat', windows, { axis: 0 });
  const lhs = k.run('Reshape', { x: stacked }, { shape: [1, kh * kw * ci!, n] });
  const rhs = k.run('Reshape', { x: dy }, { shape: [1, n, co] });
  const product = k.run('BatchMatMul', { a: lhs, b: rhs }, { transposeA: false, transposeB: false });
  const out = k.result(product, filterShape);
  k.dispose();
  return out;
}

/**
 * Conv2DBackpropInput as a forward convolution, which the wasm backend runs on XNNPACK (and on
 * every thread it has), where tfjs's own kernel is a single-threaded loop: dx is dy, dilated by
 * the strides (zeros between its rows and columns) and padded, convolved with the filter rotated
 * by 180 degrees with its in and out channels swapped. Cases it does not cover (dilated filters,
 * channels-first, padding larger than the filter) go to tfjs's kernel.
 */
function conv2DBackpropInputVia(stock: tf.KernelConfig) {
  return function conv2DBackpropInput({ inputs, backend, attrs }: { inputs: { dy: Info; filter: Info }; backend: unknown; attrs: ConvAttrs & { inputShape: [number, number, number, number] } }): Info {
    const { dy, filter } = inputs;
    const { strides, pad, dataFormat, dimRoundingMode, inputShape, dilations = 1 } = attrs;
    const dilated = Array.isArray(dilations) ? dilations.some((d) => d !== 1) : dilations !== 1;
    const fallback = () => (stock.kernelFunc as unknown as KernelFn)({ inputs, backend, attrs: attrs as unknown as Record<string, unknown> });
    if (dataFormat === 'NCHW' || dilated) return fallback();
    const fShape = filter.shape as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(inputShape, fShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const [b, h, w, ci] = inputShape;
    const [kh, kw, , co] = fShape;
    const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, padInfo } = info;
    // dy dilated by the strides has (oh - 1) * sh + 1 rows; a stride-1 convolution of it gives back h rows with these pads.
    const [dh, dw] = [(oh - 1) * sh + 1, (ow - 1) * sw + 1];
    const [top, left] = [kh - 1 - padInfo.top, kw - 1 - padInfo.left];
    const [bottom, right] = [h - dh + padInfo.top, w - dw + padInfo.left];
    if (Math.min(top, left, bottom, right) < 0) return fallback();
    const k = new KernelScope(backend);
    let spread = dy;
    if (sh > 1 || sw > 1) {
      // Zeros between rows and columns: [b, oh, 1, ow, 1, co] padded to [b, oh, sh, ow, sw, co], the trailing zeros cut off.
      const split = k.run('Reshape', { x: dy }, { shape: [b, oh, 1, ow, 1, co] });
      const spaced = k.run('PadV2', { x: split }, { paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0 });
      const merged = k.run('Reshape', { x: spaced }, { shape: [b, oh * sh, ow * sw, co] });
      spread = k.run('StridedSlice', { x: merged }, { begin: [0, 0, 0, 0], end: [b, dh, dw, co], strides: [1, 1, 1, 1], ...SLICE_MASKS });
    }
    const rotated = k.run('Reverse', { x: filter }, { dims: [0, 1] });
    const swapped = k.run('Transpose', { x: rotated }, { perm: [0, 1, 3, 2] });
    const dx = k.run('Conv2D', { x: spread, filter: swapped }, {
      strides: 1, pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC', dilations: 1, dimRoundingMode,
    });
    const out = k.result(dx, [b, h, w, ci]);
    k.dispose();
    return out;
  };
}

let registered = false;

/**
 * Registers the training kernels runner gives the wasm backend (once): Conv2DBackpropFilter, which
 * tfjs lacks, and a Conv2DBackpropInput on XNNPACK in place of tfjs's (kept for the cases it alone covers).
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc });
  }
  const stock = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (stock) {
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel({ ...stock, kernelFunc: conv2DBackpropInputVia(stock) as unknown as tf.KernelFunc });
  }
}
