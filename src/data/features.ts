/**
 * Image examples kept as their bytes, with the preprocessing folded into a lookup table: the float
 * a byte `b` of feature `k` becomes is `lut[(perFeature ? k * 256 : 0) + b]`. Every preprocessing
 * step is a per-feature (or global) function of one value, so a table of 256 entries per feature
 * gives exactly the numbers an eager float32 copy would, without allocating (and page-faulting in)
 * hundreds of megabytes for full-size datasets; batches are filled through the table.
 */
export interface ByteFeatures {
  readonly bytes: Uint8Array;
  /** Values per example. */
  readonly size: number;
  readonly lut: Float32Array;
  readonly perFeature: boolean;
}

/** Examples already as floats (tables: a few columns per row, so no table is worth it). */
export interface FloatFeatures {
  readonly values: Float32Array;
  readonly size: number;
}

/** The model's inputs for one split, row-major. */
export type Features = ByteFeatures | FloatFeatures;

/** Index of the first value that is not a finite number (Infinity past float32's range, NaN from 0/0), or -1. */
export const firstNonFinite = (values: Float32Array): number => values.findIndex((v) => !Number.isFinite(v));

/** Number of values in one example of this shape. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Writes the float values of rows `rows[from..to)` (or rows from..to when `rows` is omitted) into `out`. */
export function fillRows(f: Features, out: Float32Array, from: number, to: number, rows?: Uint32Array): void {
  const { size } = f;
  if ('values' in f) {
    for (let i = from; i < to; i++) {
      const src = (rows ? rows[i]! : i) * size;
      out.set(f.values.subarray(src, src + size), (i - from) * size);
    }
    return;
  }
  const { bytes, lut, perFeature } = f;
  for (let i = from; i < to; i++) {
    const src = (rows ? rows[i]! : i) * size;
    const dst = (i - from) * size;
    if (perFeature) {
      for (let k = 0; k < size; k++) out[dst + k] = lut[k * 256 + bytes[src + k]!]!;
    } else {
      for (let k = 0; k < size; k++) out[dst + k] = lut[bytes[src + k]!]!;
    }
  }
}

/** All rows as one float array (tests and the benchmark's model.fit baseline). */
export function materialize(f: Features): Float32Array {
  if ('values' in f) return f.values.slice();
  const count = f.bytes.length / f.size;
  const out = new Float32Array(f.bytes.length);
  fillRows(f, out, 0, count);
  return out;
}
