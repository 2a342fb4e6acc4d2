import { describe, expect, it } from 'vitest';
import { build } from '../../src/stages/build.js';
import type { Prepared } from '../../src/data/prepared.js';
import { tinyContext } from '../helpers.js';

/** Prepared data with only its shapes: build reads nothing else. */
const prepared = (numClasses: number): Prepared => {
  const split = { x: { bytes: new Uint8Array(0), size: 784, lut: new Float32Array(256), perFeature: false }, y: new Float32Array(0), count: 0 };
  return { train: split, val: split, test: split, inputShape: [784], targetShape: [numClasses], numClasses, classNames: [], oneHot: true, task: 'classification', fitted: {} };
};

describe('build', () => {
  it('builds the layers for the prepared input shape and records the model', async () => {
    const ctx = tinyContext();
    const { model } = await build.run({ normalize: prepared(10) }, ctx);
    expect(model.inputs[0]!.shape).toEqual([null, 784]);
    expect(model.outputs[0]!.shape).toEqual([null, 10]);
    expect(ctx.notes['model']).toMatchObject({ params: 784 * 16 + 16 + 16 * 10 + 10, inputShape: [784] });
    model.dispose();
  });

  it('refuses an output that does not match the classes found in the data (idx files), before training', async () => {
    await expect(build.run({ normalize: prepared(3) }, tinyContext())).rejects.toThrow(
      "model.layers[2].dense.units: the last dense layer has 10 units but the data has 3 classes; set units: 3");
  });
});
