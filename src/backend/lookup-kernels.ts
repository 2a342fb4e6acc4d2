import * as tf from './tf.js';
import type { Info, KernelFn, WasmHeap } from './kernel-scope.js';

/* The kernels an embedding's lookup and a max's gradient need: segment sums, a row gather, a broadcasting comparison. */

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
export function unsortedSegmentSum({ inputs, backend, attrs }: { inputs: { x: Info; segmentIds: Info }; backend: unknown; attrs: { numSegments: number } }): Info {
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
export function equalVia(stock: tf.KernelConfig) {
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
export function gatherVia(stock: tf.KernelConfig) {
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
