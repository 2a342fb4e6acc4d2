import { describe, expect, it } from 'vitest';
import { loadEmbeddedMnist } from '../../../src/data/images/embedded.js';

describe('loadEmbeddedMnist', () => {
  const ds = loadEmbeddedMnist();

  it('holds the 10,000 digits of the npm package, split 80/20 and marked as the fallback', () => {
    expect(ds.train.count + ds.test.count).toBe(10_000);
    expect(ds.test.count).toBeGreaterThan(1900);
    expect(ds.test.count).toBeLessThan(2100);
    expect(ds.train.images.length).toBe(ds.train.count * 784);
    expect(ds.source.kind).toBe('embedded');
    expect(ds.source.note).toContain('not the full 70,000');
  });

  it('interleaves classes so that any prefix is balanced', () => {
    expect(Array.from(ds.train.labels.subarray(0, 20))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(ds.test.labels.subarray(0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('stores pixels as bytes like the IDX files, with real ink in them', () => {
    const first = ds.train.images.subarray(0, 784);
    expect(Math.max(...first)).toBeGreaterThan(200);
    expect(first.filter((v) => v > 0).length).toBeGreaterThan(50);
  });

  it('is the same every time (no Math.random shuffle)', () => {
    const again = loadEmbeddedMnist();
    expect(Buffer.from(again.train.images).equals(Buffer.from(ds.train.images))).toBe(true);
    expect(Buffer.from(again.test.labels).equals(Buffer.from(ds.test.labels))).toBe(true);
  });
});
