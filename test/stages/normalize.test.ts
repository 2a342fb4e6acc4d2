import { describe, expect, it } from 'vitest';
import { materialize } from '../../src/data/features.js';
import { replayTable } from '../../src/data/images/byte-table.js';
import { normalize } from '../../src/stages/normalize.js';
import type { LoadOutput } from '../../src/data/prepared.js';
import { readJson, tinyContext } from '../helpers.js';

/** Three 2x2 splits whose pixel values make the fitted statistics easy to check by hand. */
function data(): LoadOutput {
  const split = (pixels: number[], labels: number[]) => ({ images: Uint8Array.from(pixels), labels: Uint8Array.from(labels), count: labels.length });
  return {
    kind: 'images',
    train: split([0, 2, 4, 6, 2, 4, 6, 8], [0, 2]),
    val: split([100, 100, 100, 100], [1]),
    test: split([1, 1, 1, 1], [2]),
    exampleShape: [2, 2],
    numClasses: 3,
    classNames: ['a', 'b', 'c'],
  };
}

describe('normalize', () => {
  it('scales, flattens and one-hot encodes', async () => {
    const ctx = tinyContext();
    ctx.spec.preprocess = [{ scale: { divisor: 2, offset: 1 } }, { flatten: {} }, { oneHot: {} }];
    const out = await normalize.run({ load: data() }, ctx);
    expect(out.inputShape).toEqual([4]);
    expect(Array.from(materialize(out.train.x))).toEqual([1, 2, 3, 4, 2, 3, 4, 5]);
    expect(Array.from(out.train.y)).toEqual([1, 0, 0, 0, 0, 1]);
    expect(out.targetShape).toEqual([3]);
  });

  it('fits standardization on the training split only, and records it', async () => {
    const ctx = tinyContext();
    ctx.spec.preprocess = [{ standardize: { per: 'global', epsilon: 0 } }];
    const out = await normalize.run({ load: data() }, ctx);
    // train pixels: 0 2 4 6 2 4 6 8 -> mean 4, variance 6; the validation 100s must not move it.
    const fitted = (readJson(ctx.runDir.file('preprocess.json')) as { steps: { standardize: { mean: number; std: number } }[] }).steps[0]!.standardize;
    expect(fitted.mean).toBe(4);
    expect(fitted.std).toBeCloseTo(Math.sqrt(6), 12);
    expect(materialize(out.test.x)[0]).toBeCloseTo((1 - 4) / Math.sqrt(6), 6);
    expect(out.train.y[1]).toBe(2); // no oneHot: integer labels
  });

  it('standardizes per feature when asked', async () => {
    const ctx = tinyContext();
    ctx.spec.preprocess = [{ standardize: { per: 'feature', epsilon: 0 } }];
    const out = await normalize.run({ load: data() }, ctx);
    // Each pixel position has values a and a+2 in train: mean a+1, std 1.
    expect(Array.from(materialize(out.train.x))).toEqual([-1, -1, -1, -1, 1, 1, 1, 1]);
  });

  it('standardizes globally after a per-feature step, over every feature', async () => {
    const ctx = tinyContext();
    ctx.spec.preprocess = [{ standardize: { per: 'feature', epsilon: 0 } }, { scale: { divisor: 0.5, offset: 0 } }, { standardize: { per: 'global', epsilon: 0 } }];
    const out = await normalize.run({ load: data() }, ctx);
    // After the first step every value is -1 or 1; doubled, then standardized globally: back to -1 and 1.
    expect(Array.from(materialize(out.train.x))).toEqual([-1, -1, -1, -1, 1, 1, 1, 1]);
  });

  it('refuses a reshape that does not fit, naming the step', async () => {
    const ctx = tinyContext();
    ctx.spec.preprocess = [{ reshape: { targetShape: [3, 3] } }];
    await expect(normalize.run({ load: data() }, ctx)).rejects.toThrow('preprocess[0].reshape.targetShape: cannot reshape examples of shape [2,2] (4 values) to [3,3] (9 values)');
  });

  it('stops at the step that takes a pixel beyond float32 or to NaN (on wasm it would train to chance with a finite loss)', async () => {
    const ctx = tinyContext();
    ctx.spec.preprocess = [{ scale: { divisor: 1e-38, offset: 0 } }];
    await expect(normalize.run({ load: data() }, ctx)).rejects.toThrow('preprocess[0].scale: pixel value 4 becomes Infinity in float32 with {"divisor":1e-38,"offset":0}');
    // Pixel 0 never changes in training: its std is 0, and epsilon 0 divides by it.
    const constant = data() as Extract<LoadOutput, { kind: 'images' }>;
    constant.train.images.set([5, 2, 4, 6, 5, 4, 6, 8]);
    ctx.spec.preprocess = [{ flatten: {} }, { standardize: { per: 'feature', epsilon: 0 } }];
    await expect(normalize.run({ load: constant }, ctx)).rejects.toThrow('preprocess[1].standardize: pixel value 0 of feature 0 becomes -Infinity in float32');
  });

  it('refuses labels beyond oneHot.numClasses', async () => {
    const ctx = tinyContext();
    ctx.spec.preprocess = [{ oneHot: { numClasses: 2 } }];
    await expect(normalize.run({ load: data() }, ctx)).rejects.toThrow('numClasses is 2 but the labels go up to 2');
  });
});

describe('replayTable (predict)', () => {
  it.each([
    { name: 'scale, per-pixel standardize, minMax', steps: [{ scale: { divisor: 255, offset: 0 } }, { standardize: { per: 'feature', epsilon: 1e-7 } }, { minMax: { min: -1, max: 1 } }] },
    { name: 'global standardize, then scale', steps: [{ standardize: { epsilon: 1e-7 } }, { scale: { divisor: 3, offset: 0.5 } }] },
  ])('rebuilds from preprocess.json the exact table normalize used: $name', async ({ steps }) => {
    const ctx = tinyContext();
    ctx.spec.preprocess = steps as typeof ctx.spec.preprocess;
    const out = await normalize.run({ load: data() }, ctx);
    const x = out.train.x as { lut: Float32Array; perFeature: boolean };
    const recorded = readJson(ctx.runDir.file('preprocess.json')) as { steps: Record<string, Record<string, unknown>>[] };
    const replayed = replayTable(recorded.steps, 4);
    expect(replayed.perFeature).toBe(x.perFeature);
    expect(Array.from(replayed.lut)).toEqual(Array.from(x.lut));
  });
});
