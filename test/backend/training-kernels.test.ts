import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerTrainingKernels } from '../../src/backend/training-kernels.js';

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerTrainingKernels();
});

/** Deterministic pseudo-random values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
}

/** The filter gradient on a backend, as plain numbers. */
async function filterGrad(backend: string, x: Float32Array, xShape: number[], dy: Float32Array, dyShape: number[], filterShape: [number, number, number, number], strides: number, pad: 'same' | 'valid'): Promise<Float32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => backpropFilter(tf.tensor4d(x, xShape as [number, number, number, number]), tf.tensor4d(dy, dyShape as [number, number, number, number]), filterShape, strides, pad).dataSync() as Float32Array);
}

/** The kernel itself, as Conv2D's gradient calls it. */
function backpropFilter(x: tf.Tensor, dy: tf.Tensor, filterShape: number[], strides: number, pad: 'same' | 'valid'): tf.Tensor {
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides, pad, dataFormat: 'NHWC', filterShape }) as tf.Tensor;
}

/** A kernel's result on wasm is the cpu backend's, to float32 round-off relative to its largest value. */
async function expectCloseToCpu(result: (backend: string) => Promise<Float32Array>): Promise<void> {
  const want = await result('cpu');
  const got = await result('wasm');
  expect(got.length).toBe(want.length);
  const scale = Math.max(...want.map(Math.abs));
  const worst = Math.max(...want.map((v, i) => Math.abs(v - got[i]!)));
  expect(worst / scale).toBeLessThan(1e-5);
  await tf.setBackend('wasm');
}

const cases: { pad: 'same' | 'valid'; strides: number; ci: number; co: number; k: number; size: number }[] = [];
for (const pad of ['same', 'valid'] as const) {
  for (const strides of [1, 2, 3]) {
    for (const [ci, co, k, size] of [[1, 4, 3, 9], [3, 2, 5, 11], [8, 6, 2, 8]] as const) cases.push({ pad, strides, ci, co, k, size });
  }
}

describe('Conv2DBackpropFilter on wasm', () => {
  it.each(cases)('matches cpu: pad $pad, strides $strides, $ci -> $co channels, kernel $k, input $size', async ({ pad, strides, ci, co, k, size }) => {
    const batch = 2;
    const out = pad === 'same' ? Math.ceil(size / strides) : Math.ceil((size - k + 1) / strides);
    const x = values(batch * size * size * ci, 11 + ci);
    const dy = values(batch * out * out * co, 29 + co);
    const grad = (backend: string) => filterGrad(backend, x, [batch, size, size, ci], dy, [batch, out, out, co], [k, k, ci, co], strides, pad);
    await expectCloseToCpu(grad);
  });

  it.each(cases)('Conv2DBackpropInput (a forward convolution on XNNPACK) matches cpu: pad $pad, strides $strides, $ci -> $co channels, kernel $k, input $size', async ({ pad, strides, ci, co, k, size }) => {
    const batch = 2;
    const out = pad === 'same' ? Math.ceil(size / strides) : Math.ceil((size - k + 1) / strides);
    const dy = values(batch * out * out * co, 31 + co);
    const filter = values(k * k * ci * co, 7 + ci);
    const grad = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => (tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor4d(dy, [batch, out, out, co]), filter: tf.tensor4d(filter, [k, k, ci, co]) },
        { strides, pad, dataFormat: 'NHWC', inputShape: [batch, size, size, ci] }) as tf.Tensor).dataSync() as Float32Array);
    };
    await expectCloseToCpu(grad);
  });

  const pools = [
    { pool: 2, strides: 2, pad: 'valid', size: 8 }, { pool: 2, strides: 2, pad: 'same', size: 7 }, { pool: 3, strides: 3, pad: 'valid', size: 10 },
    { pool: 2, strides: 3, pad: 'same', size: 8 }, { pool: 3, strides: 2, pad: 'same', size: 7 }, { pool: 2, strides: 1, pad: 'valid', size: 5 },
  ] as const;
  it.each(pools)('MaxPoolGrad matches cpu, ties and all: pool $pool, strides $strides, pad $pad, input $size', async ({ pool, strides, pad, size }) => {
    const [batch, ch] = [2, 3];
    // Quantized values, so that windows hold ties (relu outputs are full of zeros): the first maximum takes the gradient.
    const x = values(batch * size * size * ch, 3).map((v) => Math.max(0, Math.round(v * 2)));
    const grad = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const input = tf.tensor4d(x, [batch, size, size, ch]);
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, pool, strides, pad), tf.range(1, 1 + tf.maxPool(t as tf.Tensor4D, pool, strides, pad).size).reshape(tf.maxPool(t as tf.Tensor4D, pool, strides, pad).shape))));
        return g(input).dataSync() as Float32Array;
      });
    };
    const want = await grad('cpu');
    const got = await grad('wasm');
    expect(Array.from(got)).toEqual(Array.from(want));
    await tf.setBackend('wasm');
  });

  it('UnsortedSegmentSum (an embedding lookup\'s gradient) on wasm and cpu gives what tfjs\'s cpu kernel computes, ids out of range dropped', async () => {
    const ids = [3, 0, 3, 5, 1, 3, -1, 7];
    const x = values(ids.length * 4, 9);
    // tfjs's cpu kernel, which runner replaces: per segment, the float64 sum of mask * x over every row, rounded once.
    const want = Array.from({ length: 6 * 4 }, (_, at) => {
      const [seg, k] = [Math.floor(at / 4), at % 4];
      return Math.fround(ids.reduce((sum, id, row) => sum + (id === seg ? 1 : 0) * x[row * 4 + k]!, 0));
    });
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      const got = tf.tidy(() => Array.from(tf.unsortedSegmentSum(tf.tensor2d(x, [ids.length, 4]), tf.tensor1d(ids, 'int32'), 6).dataSync()));
      expect(got, backend).toEqual(want);
    }
    expect(want.slice(8, 12)).toEqual([0, 0, 0, 0]);
    await tf.setBackend('wasm');
  });

  it('ClipByValue keeps NaN on wasm as cpu does (a diverged model\'s loss is NaN, not a clipped finite number)', async () => {
    const x = [Number.NaN, -3, 0.25, 7, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const clipped = Array.from(tf.clipByValue(tf.tensor1d(x), 1e-7, 1 - 1e-7).dataSync());
        // The cross-entropy of a NaN prediction, as tfjs-layers computes it (clip, then log).
        const loss = tf.losses.softmaxCrossEntropy(tf.tensor2d([[0, 1]]), tf.tensor2d([[Number.NaN, 0]])).dataSync()[0];
        const keras = tf.metrics.categoricalCrossentropy(tf.tensor2d([[0, 1]]), tf.tensor2d([[Number.NaN, 0.5]])).dataSync()[0];
        return { clipped, loss, keras };
      });
    };
    const want = await run('cpu');
    const got = await run('wasm');
    expect(got.clipped).toEqual(want.clipped);
    expect(Number.isNaN(got.clipped[0])).toBe(true);
    expect(Number.isNaN(got.keras)).toBe(true);
    expect(Number.isNaN(want.keras)).toBe(true);
    expect(Number.isNaN(got.loss!) === Number.isNaN(want.loss!)).toBe(true);
    await tf.setBackend('wasm');
  });

  it('Equal with broadcasting and GatherV2 on axis 0 match cpu exactly', async () => {
    // Ties on purpose: a max's gradient compares values with their maximum.
    const a = values(2 * 5 * 3, 4).map((v) => Math.round(v * 2));
    const b = values(2 * 3, 6).map((v) => Math.round(v * 2));
    const table = values(7 * 3, 8);
    const ids = [6, 0, 2, 2, 5, 1];
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor3d(a, [2, 5, 3]);
        return [
          tf.equal(x, tf.tensor3d(b, [2, 1, 3])), tf.equal(tf.tensor1d(b.slice(0, 3)), x), tf.equal(x, tf.scalar(a[4]!)),
          tf.gather(tf.tensor2d(table, [7, 3]), tf.tensor2d(ids, [2, 3], 'int32')),
        ].map((t) => Array.from(t.dataSync()));
      });
    };
    const want = await run('cpu');
    expect(await run('wasm')).toEqual(want);
    expect(want[0]!.some((v) => v === 1)).toBe(true);
    await tf.setBackend('wasm');
    expect(() => tf.gather(tf.tensor2d(table, [7, 3]), tf.tensor1d([7], 'int32')).dataSync()).toThrow(/index 7 is not in \[0, 6\]/);
  });

  it('lets tf.grad differentiate a convolution with respect to its input and its filter', async () => {
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor4d(values(3 * 7 * 7 * 2, 5), [3, 7, 7, 2]);
        const w = tf.tensor4d(values(3 * 3 * 2 * 4, 6), [3, 3, 2, 4]);
        const [dx, dw] = tf.grads((input: tf.Tensor, f: tf.Tensor) => tf.sum(tf.square(tf.conv2d(input as tf.Tensor4D, f as tf.Tensor4D, 2, 'same'))))([x, w]);
        return Float32Array.from([...dx!.dataSync(), ...dw!.dataSync()]);
      });
    };
    const want = await run('cpu');
    const got = await run('wasm');
    want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 4));
  });

  it('frees every intermediate tensor', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(values(2 * 6 * 6 * 3, 1), [2, 6, 6, 3]);
    const dy = tf.tensor4d(values(2 * 3 * 3 * 4, 2), [2, 3, 3, 4]);
    const filter = tf.tensor4d(values(3 * 3 * 3 * 4, 3), [3, 3, 3, 4]);
    const before = tf.memory().numTensors;
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const idsBefore = backend.numDataIds();
    for (let i = 0; i < 5; i++) {
      backpropFilter(x, dy, [3, 3, 3, 4], 2, 'same').dispose();
      (tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 6, 6, 3] }) as tf.Tensor).dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(backend.numDataIds()).toBe(idsBefore);
    tf.dispose([x, dy, filter]);
  });
});
