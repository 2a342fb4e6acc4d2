import type { ByteFeatures } from '../features.js';

/** The preprocessing of byte examples as a table from byte to float: global (256 entries) or per feature (size x 256). */
export type ByteTable = Pick<ByteFeatures, 'lut' | 'perFeature'>;

/** The table of no preprocessing: each byte to its own value. */
export const identityTable = (): ByteTable => ({ lut: Float32Array.from({ length: 256 }, (_, b) => b), perFeature: false });

/** Gives every feature a table of its own (a per-feature step needs them). */
export function widenTable(t: { lut: Float32Array; perFeature: boolean }, size: number): void {
  if (t.perFeature) return;
  const lut = new Float32Array(size * 256);
  for (let k = 0; k < size; k++) lut.set(t.lut, k * 256);
  t.lut = lut;
  t.perFeature = true;
}

/**
 * Applies one value step, as preprocess.json records it with what it fitted, to the table in
 * place, in float32 as normalize always has. normalize and predict both go through here, so a
 * new image gets exactly the numbers the training data got. Shape and label steps change nothing.
 */
export function applyFittedStep(t: { lut: Float32Array; perFeature: boolean }, kind: string, fitted: Record<string, unknown>, size: number): void {
  if (kind === 'scale') {
    const { divisor, offset } = fitted as { divisor: number; offset: number };
    for (let i = 0; i < t.lut.length; i++) t.lut[i] = t.lut[i]! / divisor + offset;
  } else if (kind === 'standardize') {
    const { per, mean, std, epsilon } = fitted as { per: string; mean: number | number[]; std: number | number[]; epsilon: number };
    if (per === 'feature') widenTable(t, size);
    for (let i = 0; i < t.lut.length; i++) {
      const [m, s] = Array.isArray(mean) ? [mean[Math.floor(i / 256)]!, (std as number[])[Math.floor(i / 256)]!] : [mean, std as number];
      t.lut[i] = (t.lut[i]! - m) / (s + epsilon);
    }
  } else if (kind === 'minMax') {
    const { dataMin, dataMax, min, max } = fitted as { dataMin: number; dataMax: number; min: number; max: number };
    // A constant input maps to min rather than dividing by zero.
    const factor = dataMax > dataMin ? (max - min) / (dataMax - dataMin) : 0;
    for (let i = 0; i < t.lut.length; i++) t.lut[i] = min + (t.lut[i]! - dataMin) * factor;
  }
}

/** The table preprocess.json's steps describe (predict rebuilds training's preprocessing with it). */
export function replayTable(steps: readonly Record<string, Record<string, unknown>>[], size: number): ByteTable {
  const t = identityTable();
  for (const step of steps) {
    const [kind, fitted] = Object.entries(step)[0]!;
    applyFittedStep(t, kind, fitted, size);
  }
  return t;
}
