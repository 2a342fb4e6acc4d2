import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_FILES } from '../runs/run-dir.js';
import type { RunView } from '../runs/reader.js';

/** One value that differs between two runs. */
export interface Difference { readonly where: string; readonly a: number | string; readonly b: number | string; readonly diff: number }

/** What verify found: how much it compared, and every difference beyond the tolerance (and the largest of all). */
export interface Verification {
  readonly compared: { epochs: number; values: number; summaryValues: number; weights: number };
  readonly identical: boolean;
  readonly beyond: readonly Difference[];
  readonly maxDiff: number;
  readonly weightsSha256: { a: string; b: string };
}

/** Keys that measure time, not results. */
const TIMING = new Set(['seconds', 'durationMs']);

/** Every number (and string) in a JSON value, by path, array elements one by one; timings left out. */
function leaves(value: unknown, path = '', out = new Map<string, number | string>()): Map<string, number | string> {
  if (typeof value === 'number' || typeof value === 'string') out.set(path, value);
  else if (Array.isArray(value)) value.forEach((v, i) => leaves(v, `${path}[${i}]`, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (!TIMING.has(k)) leaves(v, path ? `${path}.${k}` : k, out);
  }
  return out;
}

/**
 * Compares what two runs computed: every per-epoch value, every value of the test summary and
 * the preprocessing statistics, and every weight. Identical means bitwise (Object.is, the same
 * bytes); otherwise each difference larger than `tolerance` (absolute) is listed.
 */
export function verifyRuns(a: RunView, b: RunView, tolerance: number): Verification {
  const beyond: Difference[] = [];
  let identical = true;
  let maxDiff = 0;
  const check = (where: string, x: number | string | undefined, y: number | string | undefined) => {
    if (Object.is(x, y)) return;
    identical = false;
    const diff = typeof x === 'number' && typeof y === 'number' ? Math.abs(x - y) : Infinity;
    if (Number.isNaN(diff) || diff > maxDiff) maxDiff = Number.isNaN(diff) ? Infinity : diff;
    if (!(diff <= tolerance)) beyond.push({ where, a: x ?? 'missing', b: y ?? 'missing', diff });
  };
  /** Checks every leaf of two JSON values; returns how many the first has. */
  const compareValues = (prefix: string, va: unknown, vb: unknown) => {
    const [x, y] = [leaves(va), leaves(vb)];
    for (const k of new Set([...x.keys(), ...y.keys()])) check(`${prefix}${k}`, x.get(k), y.get(k));
    return x.size;
  };

  const epochs = Math.max(a.metrics.length, b.metrics.length);
  let values = 0;
  for (let e = 0; e < epochs; e++) values += compareValues(`metrics epoch ${e + 1}: `, a.metrics[e] ?? {}, b.metrics[e] ?? {});
  const summaryValues = compareValues('summary: ', a.summary ?? {}, b.summary ?? {});
  compareValues('preprocess: ', readJsonIf(join(a.dir, RUN_FILES.preprocess)), readJsonIf(join(b.dir, RUN_FILES.preprocess)));

  const [wa, wb] = [weightsOf(a.dir), weightsOf(b.dir)];
  if (!wa.bytes.equals(wb.bytes)) {
    if (wa.values.length !== wb.values.length) check('weights: count', wa.values.length, wb.values.length);
    let worst = -1;
    let worstDiff = 0;
    let over = 0;
    for (let i = 0; i < Math.min(wa.values.length, wb.values.length); i++) {
      const d = Math.abs(wa.values[i]! - wb.values[i]!);
      if (d > worstDiff || Number.isNaN(d)) [worst, worstDiff] = [i, Number.isNaN(d) ? Infinity : d];
      if (!(d <= tolerance)) over++;
    }
    identical = false;
    maxDiff = Math.max(maxDiff, worstDiff);
    // The weights first: one line that says most.
    if (over > 0) beyond.unshift({ where: `weights: ${over} of ${wa.values.length} differ by more than ${tolerance} (largest at index ${worst})`, a: wa.values[worst] ?? 'missing', b: wb.values[worst] ?? 'missing', diff: worstDiff });
  }
  return { compared: { epochs, values, summaryValues, weights: wa.values.length }, identical, beyond, maxDiff, weightsSha256: { a: wa.sha256, b: wb.sha256 } };
}

function readJsonIf(file: string): unknown {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
}

function weightsOf(dir: string): { bytes: Buffer; values: Float32Array; sha256: string } {
  const file = join(dir, RUN_FILES.modelWeights);
  const bytes = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
  const copy = new Uint8Array(bytes);
  return { bytes, values: new Float32Array(copy.buffer, 0, Math.floor(copy.length / 4)), sha256: createHash('sha256').update(bytes).digest('hex') };
}
