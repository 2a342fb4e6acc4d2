import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../../src/core/errors.js';
import { encodeIdx, parseIdx } from '../../../src/data/images/idx.js';

const images = encodeIdx([2, 3, 4], Uint8Array.from({ length: 24 }, (_, i) => i));

describe('parseIdx', () => {
  it('reads dimensions and bytes, gzipped or not', () => {
    for (const bytes of [images, gzipSync(images)]) {
      const idx = parseIdx(bytes, 'x.idx', 3);
      expect(idx.dims).toEqual([2, 3, 4]);
      expect(Array.from(idx.data)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    }
  });

  const corrupt = [
    { name: 'a bad magic number', bytes: Uint8Array.from([1, 2, 8, 1, 0, 0, 0, 0]), message: 'x.idx is not an IDX file: bad magic number' },
    { name: 'a non-byte element type', bytes: Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]), message: 'IDX element type 0xd is not supported' },
    { name: 'a truncated body', bytes: images.subarray(0, images.length - 5), message: 'x.idx is truncated: header says 2x3x4 = 24 bytes of data, found 19' },
    { name: 'trailing bytes', bytes: Uint8Array.from([...images, 0]), message: 'longer than its header says' },
    { name: 'a truncated header', bytes: images.subarray(0, 9), message: 'the header is incomplete' },
    { name: 'a corrupt gzip stream', bytes: gzipSync(images).subarray(0, 20), message: 'x.idx is a corrupt gzip file' },
    { name: 'the wrong rank', bytes: encodeIdx([5], new Uint8Array(5)), message: 'x.idx: expected 3 dimension(s), the file has 1' },
  ];
  it.each(corrupt)('reports $name clearly', ({ bytes, message }) => {
    expect(() => parseIdx(bytes, 'x.idx', 3)).toThrow(DataError);
    expect(() => parseIdx(bytes, 'x.idx', 3)).toThrow(message);
  });
});
