import { describe, expect, it } from 'vitest';
import { wasmAdam } from '../../src/train/wasm-adam.js';

const f = Math.fround;

describe('the WebAssembly Adam update', () => {
  // The threaded wasm build's memory is shared (its pthreads see it): the module must import either kind.
  it.each([{ shared: false }, { shared: true }])('matches the float32 reference bit for bit, including the n % 4 tail (shared memory: $shared)', ({ shared }) => {
    const n = 1003;
    const memory = shared ? new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true }) : new WebAssembly.Memory({ initial: 1 });
    expect(memory.buffer instanceof SharedArrayBuffer).toBe(shared);
    const heap = new Float32Array(memory.buffer);
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    // Five arrays at 16-byte aligned offsets: w, g, m, v, out.
    const [w, g, m, v] = [0, 1, 2, 3].map((k) => heap.subarray(k * 1024, k * 1024 + n));
    for (let i = 0; i < n; i++) {
      w![i] = rand();
      g![i] = rand() * 0.1;
      m![i] = rand() * 0.01;
      v![i] = Math.abs(rand()) * 0.001;
    }
    const c = { b1: f(0.9), b2: f(0.999), c1: f(1 - 0.9), c2: f(1 - 0.999), oa1: f(1 - f(0.9 * 0.9)), oa2: f(1 - f(0.999 * 0.999)), eps: f(1e-7), nlr: f(-0.001) };
    const want = { m: new Float32Array(n), v: new Float32Array(n), w: new Float32Array(n) };
    for (let i = 0; i < n; i++) {
      const mi = f(f(m![i]! * c.b1) + f(g![i]! * c.c1));
      const vi = f(f(v![i]! * c.b2) + f(f(g![i]! * g![i]!) * c.c2));
      want.m[i] = mi;
      want.v[i] = vi;
      want.w[i] = f(f(f(f(mi / c.oa1) / f(f(Math.sqrt(f(vi / c.oa2))) + c.eps)) * c.nlr) + w![i]!);
    }
    wasmAdam(memory)(0, 4096, 8192, 12288, 16384, n, c.b1, c.b2, c.c1, c.c2, c.oa1, c.oa2, c.eps, c.nlr);
    expect(Array.from(heap.subarray(4096, 4096 + n))).toEqual(Array.from(want.w));
    expect(Array.from(m!)).toEqual(Array.from(want.m));
    expect(Array.from(v!)).toEqual(Array.from(want.v));
  });
});
