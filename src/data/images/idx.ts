import { gunzipSync } from 'node:zlib';
import { DataError } from '../../core/errors.js';

/** A parsed IDX file: its dimensions and its unsigned bytes. */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

/** IDX type code for unsigned bytes, the only one MNIST-style files use. */
const UBYTE = 0x08;

/** Parses an IDX file (gzipped or not), checking magic number, dimensions and size. */
export function parseIdx(bytes: Uint8Array, name: string, expectedRank?: number, maxBytes?: number): IdxArray {
  let buf = bytes;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf, maxBytes === undefined ? {} : { maxOutputLength: maxBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new DataError(`${name} decompresses to more than the ${Math.round(maxBytes! / 2 ** 20)} MiB runner reads`, ['raise the limit with RUNNER_MAX_FILE_MB=<megabytes>']);
      throw new DataError(`${name} is a corrupt gzip file: ${(err as Error).message}`, ['delete it so that it is fetched again, or point data.path elsewhere']);
    }
  }
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) {
    throw new DataError(`${name} is not an IDX file: bad magic number`, ['expected the first two bytes to be 0x00 0x00']);
  }
  if (buf[2] !== UBYTE) {
    throw new DataError(`${name}: IDX element type 0x${buf[2]!.toString(16)} is not supported (expected 0x08, unsigned bytes)`);
  }
  const rank = buf[3]!;
  if (expectedRank !== undefined && rank !== expectedRank) {
    throw new DataError(`${name}: expected ${expectedRank} dimension(s), the file has ${rank}`);
  }
  const header = 4 + 4 * rank;
  if (buf.length < header) throw new DataError(`${name} is truncated: the header is incomplete`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== header + size) {
    const what = buf.length < header + size ? 'truncated' : 'longer than its header says';
    throw new DataError(`${name} is ${what}: header says ${dims.join('x')} = ${size} bytes of data, found ${buf.length - header}`);
  }
  // A plain Uint8Array view (not a Buffer): element access on Buffers is several times slower in hot loops.
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + header, size) };
}

/** Builds an IDX file of unsigned bytes (used by tests and tools that write datasets). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = UBYTE;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
