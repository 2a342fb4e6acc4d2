import * as tf from './tf.js';

type Info = tf.TensorInfo;
type KernelFn = (args: { inputs: unknown; backend: unknown; attrs?: Record<string, unknown> }) => Info;

/** A kernel the wasm backend already has, called directly (as tfjs's own kernels compose each other). */
function wasmKernel(name: string): KernelFn {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`the wasm backend has no ${name} kernel`);
  return k.kernelFunc as unknown as KernelFn;
}

/**
 * Conv2DBackpropFilter for the wasm backend, which tfjs 4.22 does not register (so no conv net can
 * train on it). The filter gradient is, for each filter tap (kh, kw), the product of the input
 * window that tap sees (a strided slice of the padded input) with dy:
 *   dW[kh, kw] = slice(x)^T . dy, both flattened over (batch, outRow, outCol).
 * Built from the wasm backend's own PadV2, StridedSlice, Reshape, Transpose, BatchMatMul and
 * Concat kernels, so the work stays in wasm.
 */
function conv2DBackpropFilter({ inputs, backend, attrs }: { inputs: { x: Info; dy: Info }; backend: unknown; attrs: Record<string, unknown> }): Info {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as {
    strides: [number, number] | number; pad: 'valid' | 'same' | number; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number];
  };
  if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only');
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const [b, , , ci] = x.shape as number[];
  const [kh, kw, , co] = filterShape;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, padInfo } = info;
  const n = b! * oh * ow;
  const temps: Info[] = [];
  const keep = (t: Info) => (temps.push(t), t);
  const run = (name: string, kernelInputs: unknown, kernelAttrs?: Record<string, unknown>) => keep(wasmKernel(name)({ inputs: kernelInputs, backend, attrs: kernelAttrs }));

  const padded = padInfo.top || padInfo.bottom || padInfo.left || padInfo.right
    ? run('PadV2', { x }, { paddings: [[0, 0], [padInfo.top, padInfo.bottom], [padInfo.left, padInfo.right], [0, 0]], constantValue: 0 })
    : x;
  const dyFlat = run('Reshape', { x: dy }, { shape: [1, n, co] });
  const parts: Info[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const window = run('StridedSlice', { x: padded }, {
        begin: [0, i, j, 0], end: [b, i + sh * (oh - 1) + 1, j + sw * (ow - 1) + 1, ci], strides: [1, sh, sw, 1],
        beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
      });
      const flat = run('Reshape', { x: window }, { shape: [n, ci] });
      // An explicit transpose: BatchMatMul with transposeA is about ten times slower on wasm.
      const flatT = run('Transpose', { x: flat }, { perm: [1, 0] });
      const lhs = run('Reshape', { x: flatT }, { shape: [1, ci, n] });
      parts.push(run('BatchMatMul', { a: lhs, b: dyFlat }, { transposeA: false, transposeB: false }));
    }
  }
  const stacked = run('Concat', parts, { axis: 0 });
  const out = wasmKernel('Reshape')({ inputs: { x: stacked }, backend, attrs: { shape: filterShape } });
  const wasm = backend as { disposeData(id: object): void };
  // Each disposeData drops one reference (Reshape shares storage), so `out` keeps the stacked result alive.
  for (const t of temps) wasm.disposeData(t.dataId);
  return out;
}

let registered = false;

/** Registers the training kernels the wasm backend lacks (once, and only where tfjs has none). */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc });
  }
}
