import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { sizeOf } from '../features.js';
import { parseIdx } from './idx.js';
import { DataError, RunnerError } from '../../core/errors.js';
import { checkReadable, type Limits } from '../../core/limits.js';

/** One image example as the model's data had it: bytes of shape [height, width(, channels)]. */
export interface ImageExample { readonly name: string; readonly bytes: Uint8Array; readonly note?: string }

/** Reads a PNG of any size and colour type and returns it as the model's examples are: greyscale (or RGB) bytes, resized. */
export function pngExample(file: string, shape: readonly number[], invert: boolean, limits: Limits): ImageExample {
  checkReadable(file, 'input', limits);
  const bytes0 = readFileSync(file);
  checkPngSize(bytes0, file, limits);
  let png: PNG;
  try {
    png = PNG.sync.read(bytes0);
  } catch (err) {
    throw new RunnerError(`${file} is not a PNG image: ${(err as Error).message}`);
  }
  const [height, width, channels = 1] = shape as [number, number, number?];
  if (channels !== 1 && channels !== 3) throw new RunnerError(`the model takes images with ${channels} channels; runner reads PNGs as greyscale (1) or RGB (3)`);
  const planes = Array.from({ length: channels }, (_, c) => plane(png, channels === 1 ? 'grey' : c));
  const resized = planes.map((p) => resizeArea(p, png.width, png.height, width, height));
  const bytes = new Uint8Array(height * width * channels);
  for (let i = 0; i < height * width; i++) {
    for (let c = 0; c < channels; c++) {
      const v = Math.min(255, Math.max(0, Math.round(resized[c]![i]!)));
      bytes[i * channels + c] = invert ? 255 - v : v;
    }
  }
  const note = !invert && borderMean(bytes, width, height, channels) > 127 ? 'light background: the MNIST-style data this model learned has light strokes on black; try --invert' : undefined;
  return { name: file, bytes, ...(note ? { note } : {}) };
}

/** PNG's signature, then the IHDR chunk whose first fields are the width and height. */
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Refuses a PNG too large to decode (or not a PNG at all) from its header, before any pixel is decoded. */
function checkPngSize(bytes: Uint8Array, file: string, limits: Limits): void {
  if (bytes.length < 24 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new RunnerError(`${file} is not a PNG image${bytes.length === 0 ? ' (the file is empty)' : ': it lacks the PNG signature'}`, 2, ['runner predict reads PNG images and IDX files']);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [width, height] = [view.getUint32(16), view.getUint32(20)];
  if (width * height > limits.pixels) {
    throw new RunnerError(`${file} is ${width}x${height} pixels, over the ${limits.pixels.toLocaleString('en-US')} runner decodes`, 2, ['shrink the image, or raise the limit with RUNNER_MAX_PIXELS=<pixels>']);
  }
}

/** One channel (or the luma) of an RGBA image as floats, composited over black as MNIST's background is. */
function plane(png: PNG, which: 'grey' | number): Float64Array {
  const out = new Float64Array(png.width * png.height);
  for (let i = 0; i < out.length; i++) {
    const [r, g, b, a] = [png.data[i * 4]!, png.data[i * 4 + 1]!, png.data[i * 4 + 2]!, png.data[i * 4 + 3]! / 255];
    // ITU-R BT.601 luma, as PIL's convert('L').
    const v = which === 'grey' ? (r * 299 + g * 587 + b * 114) / 1000 : [r, g, b][which]!;
    out[i] = v * a;
  }
  return out;
}

/** Area-average resampling (OpenCV's INTER_AREA): each output pixel is the mean of the input area it covers. */
function resizeArea(src: Float64Array, sw: number, sh: number, dw: number, dh: number): Float64Array {
  if (sw === dw && sh === dh) return src;
  const weights = (n: number, m: number) => Array.from({ length: m }, (_, o) => {
    const [from, to] = [(o * n) / m, ((o + 1) * n) / m];
    const cover: [number, number][] = [];
    for (let i = Math.floor(from); i < Math.min(n, Math.ceil(to)); i++) cover.push([i, Math.min(to, i + 1) - Math.max(from, i)]);
    return cover;
  });
  const [wx, wy] = [weights(sw, dw), weights(sh, dh)];
  const out = new Float64Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      let sum = 0;
      let area = 0;
      for (const [iy, fy] of wy[y]!) for (const [ix, fx] of wx[x]!) {
        sum += src[iy * sw + ix]! * fx * fy;
        area += fx * fy;
      }
      out[y * dw + x] = sum / area;
    }
  }
  return out;
}

function borderMean(bytes: Uint8Array, w: number, h: number, c: number): number {
  let sum = 0;
  let n = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if (y > 0 && y < h - 1 && x > 0 && x < w - 1) continue;
    for (let k = 0; k < c; k++) sum += bytes[(y * w + x) * c + k]!;
    n += c;
  }
  return n ? sum / n : 0;
}

/** The images of an IDX file (gzipped or not); they must have the model's example shape. */
export function idxExamples(file: string, shape: readonly number[], limits: Limits): ImageExample[] {
  checkReadable(file, 'input', limits);
  let idx;
  try {
    idx = parseIdx(readFileSync(file), file, undefined, limits.fileBytes);
  } catch (err) {
    // A bad input file is the person's to fix: exit 2, as for any bad input.
    if (err instanceof DataError) throw new RunnerError(err.message, 2, err.details);
    throw err;
  }
  const dims = idx.dims.slice(1);
  const size = sizeOf(shape);
  if (dims.length < 2 || sizeOf(dims) !== size) {
    throw new RunnerError(`${file} holds examples of shape [${dims.join(', ')}], but the model takes [${shape.join(', ')}]`, 2, [dims.length < 2 ? 'an IDX file of images has 3 dimensions (count, height, width); this looks like a labels file' : 'resize the images, or give them as PNG files (runner resizes those)']);
  }
  return Array.from({ length: idx.dims[0]! }, (_, i) => ({ name: `${file}#${i}`, bytes: idx.data.subarray(i * size, (i + 1) * size) }));
}
