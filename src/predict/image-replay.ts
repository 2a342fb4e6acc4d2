import type { ByteFeatures } from '../data/features.js';

/** preprocess.json of an image run: the steps with what they fitted, in order. */
export interface ImagePreprocess { readonly steps: readonly Record<string, Record<string, unknown>>[]; readonly inputShape: readonly number[]; readonly classNames: readonly string[] }

/**
 * The byte-to-float table normalize built, rebuilt from the statistics preprocess.json recorded,
 * with the same float32 arithmetic, so new images get exactly the numbers the training data got.
 */
export function replayImageSteps(pre: ImagePreprocess, size: number): Pick<ByteFeatures, 'lut' | 'perFeature'> {
  let lut = Float32Array.from({ length: 256 }, (_, b) => b);
  let perFeature = false;
  for (const step of pre.steps) {
    const [kind, opts] = Object.entries(step)[0]!;
    if (kind === 'scale') {
      const { divisor, offset } = opts as { divisor: number; offset: number };
      for (let i = 0; i < lut.length; i++) lut[i] = lut[i]! / divisor + offset;
    } else if (kind === 'standardize') {
      const { per, mean, std, epsilon } = opts as { per: string; mean: number | number[]; std: number | number[]; epsilon: number };
      if (per === 'feature' && !perFeature) {
        const wide = new Float32Array(size * 256);
        for (let k = 0; k < size; k++) wide.set(lut, k * 256);
        lut = wide;
        perFeature = true;
      }
      for (let i = 0; i < lut.length; i++) {
        const g = Math.floor(i / 256);
        const [m, s] = Array.isArray(mean) ? [mean[g]!, (std as number[])[g]!] : [mean, std as number];
        lut[i] = (lut[i]! - m) / (s + epsilon);
      }
    } else if (kind === 'minMax') {
      const { dataMin, dataMax, min, max } = opts as { dataMin: number; dataMax: number; min: number; max: number };
      const factor = dataMax > dataMin ? (max - min) / (dataMax - dataMin) : 0;
      for (let i = 0; i < lut.length; i++) lut[i] = min + (lut[i]! - dataMin) * factor;
    }
    // flatten, reshape and oneHot change shapes and labels, not values.
  }
  return { lut, perFeature };
}
