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

const SLICE_MASKS = { beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 };

/** The wasm backend's own tensor storage: new outputs, and float32 views of its heap. */
interface WasmHeap {
  makeOutput(shape: number[], dtype: 'float32'): Info;
  typedArrayFromHeap(t: Info): Float32Array;
}

let scratchBuffer = new Float64Array(0);
/** `n` zeroed float64 accumulators, reused from call to call (an embedding's gradient is as large as its table). */
function scratch(n: number): Float64Array {
  if (scratchBuffer.length < n) scratchBuffer = new Float64Array(n);
  const view = scratchBuffer.subarray(0, n);
  view.fill(0);
  return view;
}

/**
 * out[ids[i]] += x[i] (rows of `inner` values), rows in ascending order, summed in float64 and
 * rounded once, as the cpu kernel's sum does (so both backends agree bit for bit with it). Ids
 * outside the output are dropped, as tfjs's cpu kernel drops them.
 */
function segmentSum(values: Float32Array, ids: Int32Array, inner: number, out: Float32Array): void {
  const segments = out.length / inner;
  const acc = scratch(out.length);
  for (let i = 0; i < ids.length; i++) {
    const seg = ids[i]!;
    if (seg < 0 || seg >= segments) continue;
    const [from, to] = [i * inner, seg * inner];
    for (let k = 0; k < inner; k++) acc[to + k]! += values[from + k]!;
  }
  out.set(acc);
}

/**
 * UnsortedSegmentSum, which the gradient of Gather (an embedding's lookup) needs: the wasm backend
 * has none, and the cpu backend's compares every row with every segment (a 20,000-word embedding
 * took minutes a batch), so both get this one.
 */
function unsortedSegmentSum({ inputs, backend, attrs }: { inputs: { x: Info; segmentIds: Info }; backend: unknown; attrs: { numSegments: number } }): Info {
  const { x, segmentIds } = inputs;
  if (x.dtype !== 'float32') throw new Error(`UnsortedSegmentSum takes float32 values here, not ${x.dtype}`);
  const shape = [attrs.numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  if ('typedArrayFromHeap' in (backend as object)) {
    const heap = backend as WasmHeap;
    const out = heap.makeOutput(shape, 'float32');
    segmentSum(heap.typedArrayFromHeap(x), heap.typedArrayFromHeap(segmentIds) as unknown as Int32Array, inner, heap.typedArrayFromHeap(out));
    return out;
  }
  const cpu = backend as { data: { get(id: object): { values: unknown } }; makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): Info };
  const sums = new Float32Array(attrs.numSegments * inner);
  segmentSum(cpu.data.get(x.dataId).values as Float32Array, cpu.data.get(segmentIds.dataId).values as Int32Array, inner, sums);
  return cpu.makeTensorInfo(shape, 'float32', sums);
}

/**
 * Conv2DBackpropFilter for the wasm backend, which tfjs 4.22 does not register (so no conv net can
 * train on it). The filter gradient is one matrix product: the input window each filter tap sees,
 * stacked over taps and channels, times dy, both flattened over (batch, outRow, outCol):
 *   dW[(kh, kw, ci), co] = X[(kh, kw, ci), n] . dy[n, co]
 * X (im2col, transposed) is written in one pass over the backend's heap, zeros where a tap falls in
 * the padding; its rows come out in the filter's own (kh, kw, ci) order. The product is the wasm
 * BatchMatMul (XNNPACK, on every thread the backend has).
 */
function conv2DBackpropFilter({ inputs, backend, attrs }: { inputs: { x: Info; dy: Info }; backend: unknown; attrs: ConvAttrs & { filterShape: [number, number, number, number] } }): Info {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only');
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const [b, h, w, ci] = x.shape as [number, number, number, number];
  const [kh, kw, , co] = filterShape;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, padInfo } = info;
  const n = b * oh * ow;
  const heap = backend as WasmHeap;
  const k = new KernelScope(backend);
  const cols = k.keep(heap.makeOutput([1, kh * kw * ci, n], 'float32'));
  // Views after the output is made: making it may grow (and so replace) the heap.
  const [src, dst] = [heap.typedArrayFromHeap(x), heap.typedArrayFromHeap(cols)];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      // Output columns whose input column (q * sw + j - left) lies inside the image.
      const qFrom = Math.min(ow, Math.max(0, Math.ceil((padInfo.left - j) / sw)));
      const qTo = Math.max(qFrom, Math.min(ow, Math.floor((w - 1 + padInfo.left - j) / sw) + 1));
      for (let c = 0; c < ci; c++) {
        let at = ((i * kw + j) * ci + c) * n;
        for (let bb = 0; bb < b; bb++) {
          for (let r = 0; r < oh; r++) {
            const y = r * sh + i - padInfo.top;
            if (y < 0 || y >= h) {
              dst.fill(0, at, at + ow);
              at += ow;
              continue;
            }
            const rowBase = (bb * h + y) * w;
            dst.fill(0, at, at + qFrom);
            for (let q = qFrom; q < qTo; q++) dst[at + q] = src[(rowBase + q * sw + j - padInfo.left) * ci + c]!;
            dst.fill(0, at + qTo, at + ow);
            at += ow;
          }
        }
      }
    }
  }
  const rhs = k.run('Reshape', { x: dy }, { shape: [1, n, co] });
  const product = k.run('BatchMatMul', { a: cols, b: rhs }, { transposeA: false, transposeB: false });
  const out = k.result(product, filterShape);
  k.dispose();
  return out;
}

/**
 * MaxPoolGrad: each window's dy goes to the first position (in row-major order) holding its
 * maximum, and where windows overlap a position sums its windows' dy in row-major order of the
 * windows: both as tfjs's cpu kernel does it, so the two backends agree bit for bit, ties
 * included (tfjs's wasm kernel sends a tie's gradient elsewhere, and takes several times longer).
 */
function maxPoolGradVia(stock: tf.KernelConfig) {
  return function maxPoolGrad({ inputs, backend, attrs }: { inputs: { dy: Info; input: Info; output: Info }; backend: unknown; attrs: { filterSize: [number, number] | number; strides: [number, number] | number; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' } }): Info {
    const { dy, input } = inputs;
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const { batchSize: b, inHeight: h, inWidth: w, inChannels: ch, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, effectiveFilterHeight: fh, effectiveFilterWidth: fw, padInfo } = info;
    if (input.dtype !== 'float32') {
      return (stock.kernelFunc as unknown as KernelFn)({ inputs, backend, attrs: attrs as unknown as Record<string, unknown> });
    }
    const heap = backend as WasmHeap;
    const out = heap.makeOutput(input.shape as number[], 'float32');
    const [x, g, dx] = [heap.typedArrayFromHeap(input), heap.typedArrayFromHeap(dy), heap.typedArrayFromHeap(out)];
    dx.fill(0);
    let at = 0;
    for (let bb = 0; bb < b; bb++) {
      for (let r = 0; r < oh; r++) {
        const [yFrom, yTo] = [Math.max(0, r * sh - padInfo.top), Math.min(h, r * sh - padInfo.top + fh)];
        for (let q = 0; q < ow; q++) {
          const [xFrom, xTo] = [Math.max(0, q * sw - padInfo.left), Math.min(w, q * sw - padInfo.left + fw)];
          for (let d = 0; d < ch; d++, at++) {
            let best = -Infinity;
            let where = -1;
            for (let y = yFrom; y < yTo; y++) {
              for (let xx = xFrom; xx < xTo; xx++) {
                const i = ((bb * h + y) * w + xx) * ch + d;
                if (x[i]! > best) {
                  best = x[i]!;
                  where = i;
                }
              }
            }
            // Starting from 0, as the cpu kernel sums (so a -0 dy gives +0 there too).
            if (where >= 0) dx[where] = dx[where]! + g[at]!;
          }
        }
      }
    }
    return out;
  };
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

/** Strides of a row-major shape, 0 where a dimension of size 1 broadcasts against `out`. */
function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const padded = [...Array<number>(out.length - shape.length).fill(1), ...shape];
  const strides = new Array<number>(out.length).fill(0);
  let stride = 1;
  for (let d = out.length - 1; d >= 0; d--) {
    strides[d] = padded[d] === 1 && out[d] !== 1 ? 0 : stride;
    stride *= padded[d]!;
  }
  return strides;
}

/**
 * Equal with broadcasting, in one pass over the heap: the gradient of a max (globalMaxPooling1d,
 * a max reduction) compares [batch, steps, channels] with [batch, 1, channels], which tfjs's
 * wasm kernel does element by element through a slow general path (about 35 ms for 600,000
 * values). Inputs of one shape, or not float32, go to tfjs's kernel.
 */
function equalVia(stock: tf.KernelConfig) {
  return function equal({ inputs, backend }: { inputs: { a: Info; b: Info }; backend: unknown }): Info {
    const { a, b } = inputs;
    const same = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
    if (same || a.dtype !== 'float32' || b.dtype !== 'float32') return (stock.kernelFunc as unknown as KernelFn)({ inputs, backend });
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const heap = backend as { makeOutput(shape: number[], dtype: 'bool'): Info; typedArrayFromHeap(t: Info): Float32Array };
    const out = heap.makeOutput(shape, 'bool');
    const [x, y, o] = [heap.typedArrayFromHeap(a), heap.typedArrayFromHeap(b), heap.typedArrayFromHeap(out) as unknown as Uint8Array];
    const [sa, sb] = [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)];
    const last = shape.length - 1;
    const inner = shape[last] ?? 1;
    const outer = o.length / inner;
    const index = new Array<number>(last).fill(0);
    for (let r = 0; r < outer; r++) {
      let [ia, ib] = [0, 0];
      for (let d = 0; d < last; d++) {
        ia += index[d]! * sa[d]!;
        ib += index[d]! * sb[d]!;
      }
      const [da, db, base] = [sa[last] ?? 0, sb[last] ?? 0, r * inner];
      for (let k = 0; k < inner; k++) o[base + k] = x[ia + k * da] === y[ib + k * db] ? 1 : 0;
      for (let d = last - 1; d >= 0 && ++index[d]! === shape[d]; d--) index[d] = 0;
    }
    return out;
  };
}

/**
 * GatherV2 on axis 0 (an embedding's lookup: rows of the table by token index), one row copy per
 * index, where tfjs's wasm kernel copies value by value. Other axes, batch dimensions and dtypes
 * go to tfjs's kernel. An index outside the table is an error, as on cpu.
 */
function gatherVia(stock: tf.KernelConfig) {
  return function gather({ inputs, backend, attrs }: { inputs: { x: Info; indices: Info }; backend: unknown; attrs: { axis: number; batchDims: number } }): Info {
    const { x, indices } = inputs;
    if (attrs.axis !== 0 || attrs.batchDims !== 0 || x.dtype !== 'float32' || indices.dtype !== 'int32') {
      return (stock.kernelFunc as unknown as KernelFn)({ inputs, backend, attrs: attrs as unknown as Record<string, unknown> });
    }
    const rows = x.shape[0]!;
    const width = x.shape.slice(1).reduce((p, q) => p * q, 1);
    const heap = backend as WasmHeap;
    const out = heap.makeOutput([...indices.shape, ...x.shape.slice(1)], 'float32');
    const [table, ids, o] = [heap.typedArrayFromHeap(x), heap.typedArrayFromHeap(indices) as unknown as Int32Array, heap.typedArrayFromHeap(out)];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < 0 || id >= rows) throw new Error(`GatherV2: index ${id} is not in [0, ${rows - 1}]`);
      o.set(table.subarray(id * width, (id + 1) * width), i * width);
    }
    return out;
  };
}

let registered = false;

/**
 * Registers the training kernels runner gives the wasm backend (once): Conv2DBackpropFilter and
 * UnsortedSegmentSum, which tfjs lacks (the cpu backend gets this UnsortedSegmentSum too), and in place of tfjs's own a Conv2DBackpropInput on
 * XNNPACK, a one-pass MaxPoolGrad, a broadcasting Equal and an axis-0 GatherV2 (tfjs's are kept
 * for the cases they alone cover).
 */
export function registerTrainingKernels(): void {
  if (registered) return;
  registered = true;
  for (const [name, kernel] of [['Conv2DBackpropFilter', conv2DBackpropFilter], ['UnsortedSegmentSum', unsortedSegmentSum]] as const) {
    if (!tf.getKernel(name, 'wasm')) tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernel as unknown as tf.KernelFunc });
  }
  const cpuSum = tf.getKernel('UnsortedSegmentSum', 'cpu');
  if (cpuSum) tf.unregisterKernel('UnsortedSegmentSum', 'cpu');
  tf.registerKernel({ ...cpuSum, kernelName: 'UnsortedSegmentSum', backendName: 'cpu', kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc });
  for (const [name, via] of [['Conv2DBackpropInput', conv2DBackpropInputVia], ['MaxPoolGrad', maxPoolGradVia], ['Equal', equalVia], ['GatherV2', gatherVia]] as const) {
    const stock = tf.getKernel(name, 'wasm');
    if (!stock) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...stock, kernelFunc: via(stock) as unknown as tf.KernelFunc });
  }
}
