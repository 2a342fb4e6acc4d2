import * as tf from './tf.js';
import { KernelScope, SLICE_MASKS, type ConvAttrs, type Info, type KernelFn, type WasmHeap } from './kernel-scope.js';

/* The convolution and pooling gradients runner gives the wasm backend. */

/**
 * Conv2DBackpropFilter for the wasm backend, which tfjs 4.22 does not register (so no conv net can
 * train on it). The filter gradient is one matrix product: the input window each filter tap sees,
 * stacked over taps and channels, times dy, both flattened over (batch, outRow, outCol):
 *   dW[(kh, kw, ci), co] = X[(kh, kw, ci), n] . dy[n, co]
 * X (im2col, transposed) is written in one pass over the backend's heap, zeros where a tap falls in
 * the padding; its rows come out in the filter's own (kh, kw, ci) order. The product is the wasm
 * BatchMatMul (XNNPACK, on every thread the backend has).
 */
export function conv2DBackpropFilter({ inputs, backend, attrs }: { inputs: { x: Info; dy: Info }; backend: unknown; attrs: ConvAttrs & { filterShape: [number, number, number, number] } }): Info {
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
export function maxPoolGradVia(stock: tf.KernelConfig) {
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
export function conv2DBackpropInputVia(stock: tf.KernelConfig) {
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
