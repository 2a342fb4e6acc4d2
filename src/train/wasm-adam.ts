/**
 * The Adam update as a tiny WebAssembly function that works directly in the wasm backend's heap
 * (it imports the backend's own memory). WebAssembly's f32 arithmetic rounds every operation to
 * float32 exactly as tfjs's kernels do, so it matches the stock optimizer bit for bit, without
 * the Math.fround of the JS loop. The module is assembled here, byte by byte (no toolchain).
 */

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
/** SIMD instructions: the 0xfd prefix, then the opcode as unsigned LEB128. */
const SIMD = {
  load: [0xfd, 0x00], store: [0xfd, 0x0b], splat: [0xfd, 0x13],
  sqrt: [0xfd, 0xe3, 0x01], add: [0xfd, 0xe4, 0x01], mul: [0xfd, 0xe6, 0x01], div: [0xfd, 0xe7, 0x01],
  abs: [0xfd, 0xe0, 0x01], ge: [0xfd, 0x46], and: [0xfd, 0x4e],
} as const;
const OP = {
  block: 0x02, loop: 0x03, end: 0x0b, br: 0x0c, brIf: 0x0d,
  get: 0x20, set: 0x21, i32Const: 0x41, i32GeU: 0x4f, i32Add: 0x6a, i32And: 0x71, i32Shl: 0x74,
  f32Load: 0x2a, f32Store: 0x38, f32Sqrt: 0x91, f32Add: 0x92, f32Mul: 0x94, f32Div: 0x95,
  f32Const: 0x43, f32Abs: 0x8b, f32Lt: 0x5d, select: 0x1b,
} as const;

/** FLT_MIN, the smallest normal float32, as f32.const's little-endian bytes (0x00800000). */
const FLT_MIN_BYTES = [0x00, 0x00, 0x80, 0x00];

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
// SIMD locals: the eight constants splatted to 4 lanes, then g, m, v, FLT_MIN in 4 lanes, and the end of the 4-wide part.
const [VB1, VB2, VC1, VC2, VOA1, VOA2, VEPS, VNLR, VG, VM, VV, VMIN, N4] = [19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31] as const;
const get = (i: number) => [OP.get, i];
const set = (i: number) => [OP.set, i];
const at = (base: number) => [...get(base), ...get(OFF), OP.i32Add];
const load = (base: number) => [...at(base), OP.f32Load, 2, 0];

const vload = (base: number) => [...at(base), ...SIMD.load, 2, 0];

/**
 * Flushes a moment below FLT_MIN to zero. WebAssembly cannot flush subnormals, which run about
 * 19 times slower; and a moment whose gradient stays zero (an image border's weights) decays into
 * them and sticks at the smallest one (denorm_min * beta rounds back to denorm_min), slowing every
 * later step. Zero instead changes no weight: such a moment's update is below any weight's ulp.
 */
const flush = (local: number) => [OP.f32Const, 0, 0, 0, 0, ...get(local), ...get(local), OP.f32Abs, OP.f32Const, ...FLT_MIN_BYTES, OP.f32Lt, OP.select, ...set(local)];
const vflush = (local: number) => [...get(local), ...get(local), ...SIMD.abs, ...get(VMIN), ...SIMD.ge, ...SIMD.and, ...set(local)];

/** Four lanes at a time: the same operations as the scalar loop, each lane rounded alike. */
const simdPart = [
  ...[[B1, VB1], [B2, VB2], [C1, VC1], [C2, VC2], [OA1, VOA1], [OA2, VOA2], [EPS, VEPS], [NLR, VNLR]].flatMap(([from, to]) => [...get(from!), ...SIMD.splat, ...set(to!)]),
  OP.f32Const, ...FLT_MIN_BYTES, ...SIMD.splat, ...set(VMIN),
  ...get(N), OP.i32Const, 0x7c /* -4 */, OP.i32And, ...set(N4),
  OP.block, 0x40, OP.loop, 0x40,
  ...get(I), ...get(N4), OP.i32GeU, OP.brIf, 1,
  ...get(I), OP.i32Const, 2, OP.i32Shl, ...set(OFF),
  ...vload(G), ...set(VG),
  ...vload(M), ...get(VB1), ...SIMD.mul, ...get(VG), ...get(VC1), ...SIMD.mul, ...SIMD.add, ...set(VM), ...vflush(VM),
  ...vload(V), ...get(VB2), ...SIMD.mul, ...get(VG), ...get(VG), ...SIMD.mul, ...get(VC2), ...SIMD.mul, ...SIMD.add, ...set(VV), ...vflush(VV),
  ...at(M), ...get(VM), ...SIMD.store, 2, 0,
  ...at(V), ...get(VV), ...SIMD.store, 2, 0,
  ...at(OUT),
  ...get(VM), ...get(VOA1), ...SIMD.div,
  ...get(VV), ...get(VOA2), ...SIMD.div, ...SIMD.sqrt, ...get(VEPS), ...SIMD.add,
  ...SIMD.div, ...get(VNLR), ...SIMD.mul,
  ...vload(W), ...SIMD.add,
  ...SIMD.store, 2, 0,
  ...get(I), OP.i32Const, 4, OP.i32Add, ...set(I),
  OP.br, 0,
  OP.end, OP.end,
];

/** The function body; with `simd`, a 4-wide loop first and the scalar loop for the last n % 4 values. */
const body = (simd: boolean) => [
  ...vec([[1, I32], [3, F32], [1, I32], ...(simd ? [[12, V128], [1, I32]] : [])]), // locals: i; gi, mi, vi; off; vectors; n4
  ...(simd ? simdPart : []),
  OP.block, 0x40, OP.loop, 0x40,
  ...get(I), ...get(N), OP.i32GeU, OP.brIf, 1,
  ...get(I), OP.i32Const, 2, OP.i32Shl, ...set(OFF),
  ...load(G), ...set(GI),
  // m' = m * beta1 + g * (1 - beta1)
  ...load(M), ...get(B1), OP.f32Mul, ...get(GI), ...get(C1), OP.f32Mul, OP.f32Add, ...set(MI), ...flush(MI),
  // v' = v * beta2 + (g * g) * (1 - beta2)
  ...load(V), ...get(B2), OP.f32Mul, ...get(GI), ...get(GI), OP.f32Mul, ...get(C2), OP.f32Mul, OP.f32Add, ...set(VI), ...flush(VI),
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

/**
 * The memory import: the backend's memory, at least one page. The threaded build's memory is
 * shared (its pthreads see it too), and a shared memory can only be imported as shared, with a
 * maximum (4 GiB in pages, as Emscripten declares it).
 */
const memoryImport = (shared: boolean) => (shared ? [0x02, 0x03, 0x01, ...uleb(65536)] : [0x02, 0x00, 0x01]);

const moduleBytes = (simd: boolean, shared: boolean) => {
  const code = body(simd);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([...Array(6).fill([I32]), ...Array(8).fill([F32])]), ...vec([])]])),
    ...section(2, vec([[...name('env'), ...name('memory'), ...memoryImport(shared)]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('adam'), 0x00, 0]])),
    ...section(10, vec([[...uleb(code.length), ...code]])),
  ]);
};

export type WasmAdam = (w: number, g: number, m: number, v: number, out: number, n: number, ...f32: number[]) => void;

const instances = new WeakMap<WebAssembly.Memory, WasmAdam>();

/** The Adam function bound to a wasm backend's memory (compiled once per memory). */
export function wasmAdam(memory: WebAssembly.Memory): WasmAdam {
  let fn = instances.get(memory);
  if (!fn) {
    // SIMD where the engine has it (Node 16.4+ does), else the scalar loop alone.
    const shared = memory.buffer instanceof SharedArrayBuffer;
    const bytes = WebAssembly.validate(moduleBytes(true, shared)) ? moduleBytes(true, shared) : moduleBytes(false, shared);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    fn = instance.exports['adam'] as WasmAdam;
    instances.set(memory, fn);
  }
  return fn;
}
