/**
 * The Adam update as a tiny WebAssembly function that works directly in the wasm backend's heap
 * (it imports the backend's own memory). WebAssembly's f32 arithmetic rounds every operation to
 * float32 exactly as tfjs's kernels do, so it matches the stock optimizer bit for bit, without
 * the Math.fround of the JS loop. The module is assembled here, byte by byte (no toolchain).
 */

const I32 = 0x7f;
const F32 = 0x7d;
const OP = {
  block: 0x02, loop: 0x03, end: 0x0b, br: 0x0c, brIf: 0x0d,
  get: 0x20, set: 0x21, i32Const: 0x41, i32GeU: 0x4f, i32Add: 0x6a, i32Shl: 0x74,
  f32Load: 0x2a, f32Store: 0x38, f32Sqrt: 0x91, f32Add: 0x92, f32Mul: 0x94, f32Div: 0x95,
} as const;

/** Unsigned LEB128, as the binary format encodes sizes and indices. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

// Parameters: w g m v out (byte offsets), n, then the f32 constants; locals follow them.
const [W, G, M, V, OUT, N, B1, B2, C1, C2, OA1, OA2, EPS, NLR, I, GI, MI, VI, OFF] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18] as const;
const get = (i: number) => [OP.get, i];
const set = (i: number) => [OP.set, i];
const at = (base: number) => [...get(base), ...get(OFF), OP.i32Add];
const load = (base: number) => [...at(base), OP.f32Load, 2, 0];

const body = [
  ...vec([[1, I32], [3, F32], [1, I32]]), // locals: i; gi, mi, vi; off
  OP.block, 0x40, OP.loop, 0x40,
  ...get(I), ...get(N), OP.i32GeU, OP.brIf, 1,
  ...get(I), OP.i32Const, 2, OP.i32Shl, ...set(OFF),
  ...load(G), ...set(GI),
  // m' = m * beta1 + g * (1 - beta1)
  ...load(M), ...get(B1), OP.f32Mul, ...get(GI), ...get(C1), OP.f32Mul, OP.f32Add, ...set(MI),
  // v' = v * beta2 + (g * g) * (1 - beta2)
  ...load(V), ...get(B2), OP.f32Mul, ...get(GI), ...get(GI), OP.f32Mul, ...get(C2), OP.f32Mul, OP.f32Add, ...set(VI),
  ...at(M), ...get(MI), OP.f32Store, 2, 0,
  ...at(V), ...get(VI), OP.f32Store, 2, 0,
  // w' = ((m' / (1 - beta1^t)) / (sqrt(v' / (1 - beta2^t)) + eps)) * -lr + w
  ...at(OUT),
  ...get(MI), ...get(OA1), OP.f32Div,
  ...get(VI), ...get(OA2), OP.f32Div, OP.f32Sqrt, ...get(EPS), OP.f32Add,
  OP.f32Div, ...get(NLR), OP.f32Mul,
  ...load(W), OP.f32Add,
  OP.f32Store, 2, 0,
  ...get(I), OP.i32Const, 1, OP.i32Add, ...set(I),
  OP.br, 0,
  OP.end, OP.end, OP.end,
];

const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, vec([[0x60, ...vec([...Array(6).fill([I32]), ...Array(8).fill([F32])]), ...vec([])]])),
  ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])),
  ...section(3, vec([[0]])),
  ...section(7, vec([[...name('adam'), 0x00, 0]])),
  ...section(10, vec([[...uleb(body.length), ...body]])),
]);

export type WasmAdam = (w: number, g: number, m: number, v: number, out: number, n: number, ...f32: number[]) => void;

const instances = new WeakMap<WebAssembly.Memory, WasmAdam>();

/** The Adam function bound to a wasm backend's memory (compiled once per memory). */
export function wasmAdam(memory: WebAssembly.Memory): WasmAdam {
  let fn = instances.get(memory);
  if (!fn) {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(MODULE), { env: { memory } });
    fn = instance.exports['adam'] as WasmAdam;
    instances.set(memory, fn);
  }
  return fn;
}
