import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictCommand } from '../../src/commands/predict.js';
import { runCommand } from '../../src/commands/run.js';
import { encodeIdx } from '../../src/data/images/idx.js';
import { loadModel } from '../../src/model/io.js';
import { evaluateSplit } from '../../src/train/batches.js';
import { load } from '../../src/stages/load.js';
import { normalize } from '../../src/stages/normalize.js';
import { FIXTURES, tinyContext } from '../helpers.js';

const BIN = new URL('../../bin/runner.js', import.meta.url).pathname;
const EXPERIMENTS = new URL('../../experiments/', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'runner-predict-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const N = 20;

/** Writes a PNG from one channel of bytes, as greyscale or (repeated) RGB, optionally scaled up by pixel repetition. */
function writePng(file: string, pixels: Uint8Array, side: number, { rgb = false, scale = 1 } = {}): string {
  const png = new PNG({ width: side * scale, height: side * scale });
  for (let y = 0; y < side * scale; y++) {
    for (let x = 0; x < side * scale; x++) {
      const v = pixels[Math.floor(y / scale) * side + Math.floor(x / scale)]!;
      const o = (y * side * scale + x) * 4;
      png.data.set([v, v, v, 255], o);
    }
  }
  writeFileSync(file, PNG.sync.write(png, rgb ? { colorType: 2 } : { colorType: 0 }));
  return file;
}

describe('runner predict on an image run', () => {
  let runDir: string;
  let expected: Int32Array;
  let digits: Uint8Array;
  beforeAll(async () => {
    const run = await runCommand({ spec: join(FIXTURES, 'tiny-mlp.yaml'), out: join(work, 'runs'), backend: 'cpu' });
    runDir = run.runDir;
    // The model's own evaluation of the test split: the classes predict must give for the same digits.
    const ctx = tinyContext();
    const loaded = await load.run({}, ctx);
    if (loaded.kind !== 'images') throw new Error('expected images');
    const prepared = await normalize.run({ load: loaded }, ctx);
    const model = await loadModel(join(runDir, 'model'));
    model.compile({ loss: 'categoricalCrossentropy', optimizer: 'adam', metrics: ['accuracy'] });
    expected = new Int32Array(prepared.test.count);
    await evaluateSplit(model, prepared.test, prepared.inputShape, prepared.targetShape, 256, { classes: expected });
    model.dispose();
    digits = loaded.test.images.slice(0, N * 784);
  });

  it('classifies PNG digits exactly as the model evaluated them', async () => {
    const files = Array.from({ length: N }, (_, i) => writePng(join(work, `digit-${i}.png`), digits.subarray(i * 784, (i + 1) * 784), 28));
    const predictions = await predictCommand({ run: runDir, inputs: files, top: 3 });
    expect(predictions.map((p) => Number(p.class))).toEqual(Array.from(expected.subarray(0, N)));
    for (const p of predictions) {
      expect(p.top).toHaveLength(3);
      expect(p.top![0]!.probability).toBeGreaterThanOrEqual(p.top![1]!.probability);
    }
  });

  it('resizes and converts a larger colour PNG to the same answer', async () => {
    const small = writePng(join(work, 'd0.png'), digits.subarray(0, 784), 28);
    const big = writePng(join(work, 'd0-big-rgb.png'), digits.subarray(0, 784), 28, { rgb: true, scale: 3 });
    const [a, b] = await predictCommand({ run: runDir, inputs: [small, big] });
    expect(b!.class).toBe(a!.class);
    expect(b!.top![0]!.probability).toBe(a!.top![0]!.probability);
  });

  it('reads an IDX file of images, one prediction per image', async () => {
    const file = join(work, 'digits-idx3-ubyte');
    writeFileSync(file, encodeIdx([N, 28, 28], digits));
    const predictions = await predictCommand({ run: runDir, inputs: [file] });
    expect(predictions.map((p) => p.input)).toEqual(Array.from({ length: N }, (_, i) => `${file}#${i}`));
    expect(predictions.map((p) => Number(p.class))).toEqual(Array.from(expected.subarray(0, N)));
  });

  const bad = [
    { name: 'rows given to an image model', file: 'rows.csv', content: 'a,b\n1,2\n', want: 'is an image model (examples of shape [28, 28]); give PNG images or an IDX file' },
    { name: 'a file that is not a PNG', file: 'fake.png', content: 'not a png', want: 'fake.png is not a PNG image' },
    { name: 'an IDX file of labels', file: 'labels-idx1-ubyte', content: Buffer.from(encodeIdx([3], Uint8Array.from([1, 2, 3]))), want: 'holds examples of shape [], but the model takes [28, 28]' },
    { name: 'a missing input', file: '', content: '', want: "input 'nope.png' does not exist" },
    { name: 'an empty PNG', file: 'empty.png', content: '', want: 'empty.png is not a PNG image (the file is empty)' },
    { name: 'a JPEG named .png', file: 'photo.png', content: Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...new Array(40).fill(0)]), want: 'photo.png is not a PNG image: it lacks the PNG signature' },
    { name: 'a PNG too large to decode (by its header)', file: 'huge.png', content: pngHeader(20000, 20000), want: 'huge.png is 20000x20000 pixels, over the 40,000,000 runner decodes' },
  ];
  it.each([
    { name: 'a folder', path: () => work, want: 'is a folder; expected a file' },
    { name: 'a device', path: () => '/dev/zero', want: "input '/dev/zero' is not a regular file" },
  ])('refuses $name as an input at once, with exit 2', async ({ path, want }) => {
    const r = await execa('node', [BIN, 'predict', runDir, path()], { cwd: work, reject: false, timeout: 60_000 });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(want);
  });

  it.each([
    { name: 'weights.bin missing', damage: (d: string) => rmSync(join(d, 'model', 'weights.bin')), want: 'weights.bin is missing' },
    { name: 'weights.bin cut short', damage: (d: string) => truncateSync(join(d, 'model', 'weights.bin'), 100), want: "weights.bin holds 100 bytes, but model.json's weights need" },
    { name: 'weights.bin longer than its manifest', damage: (d: string) => appendFileSync(join(d, 'model', 'weights.bin'), 'extra'), want: "but model.json's weights need" },
    { name: 'model.json truncated', damage: (d: string) => truncateSync(join(d, 'model', 'model.json'), 50), want: 'model.json is not valid JSON' },
    { name: 'preprocess.json truncated', damage: (d: string) => truncateSync(join(d, 'preprocess.json'), 20), want: 'preprocess.json is not valid JSON' },
  ])('refuses a run folder with $name, exit 2', async ({ damage, want }) => {
    const copy = mkdtempSync(join(work, 'damaged-'));
    cpSync(runDir, copy, { recursive: true });
    damage(copy);
    const png = writePng(join(copy, 'in.png'), new Uint8Array(784), 28);
    const r = await execa('node', [BIN, 'predict', copy, png], { cwd: work, reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(want);
    expect(r.stderr).not.toContain('internal error');
  });

  it.each([['-k', 'abc'], ['-k', '0'], ['-k', '1.5']])('refuses %s %s with exit 2, naming the text given', async (flag, value) => {
    const r = await execa('node', [BIN, 'predict', runDir, 'x.png', flag, value], { cwd: work, reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`expected an integer >= 1, got '${value}'`);
  });

  it.each(bad)('refuses $name with exit 2 and what the model expects (CLI)', async ({ file, content, want }) => {
    if (file) writeFileSync(join(work, file), content);
    const r = await execa('node', [BIN, 'predict', runDir, file ? join(work, file) : 'nope.png'], { cwd: work, reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(want);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

/** The first 24 bytes of a PNG of this size (signature and IHDR): enough for the size check, nothing to decode. */
function pngHeader(width: number, height: number): Buffer {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  return b;
}

describe('runner predict on table runs', () => {
  it('names the species of penguin rows (CLI, --json) and warns about a category training never saw', async () => {
    const run = await runCommand({ spec: join(EXPERIMENTS, 'penguins-mlp.yaml'), set: ['train.epochs=15'], out: join(work, 'runs') });
    const rows = join(work, 'penguins.csv');
    writeFileSync(rows, 'Species,Island,Beak Length (mm),Beak Depth (mm),Flipper Length (mm),Body Mass (g),Sex\nAdelie,Torgersen,39.1,18.7,181,3750,MALE\nGentoo,Biscoe,46.1,13.2,211,4500,FEMALE\nChinstrap,Dream,49.7,18.6,195,3600,\nAdelie,Atlantis,38,18,185,3500,FEMALE\n');
    const r = await execa('node', [BIN, 'predict', run.runDir, rows, '--json'], { cwd: work, reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    const predictions = JSON.parse(r.stdout) as { class: string; actual: string; top: { probability: number }[] }[];
    expect(predictions.map((p) => p.class)).toEqual(predictions.map((p) => p.actual));
    for (const p of predictions) expect(p.top.reduce((a, t) => a + t.probability, 0)).toBeCloseTo(1, 5);
    expect(r.stderr).toContain("have a value of 'Island' the training rows never had");
    const missing = join(work, 'short.csv');
    writeFileSync(missing, 'Island,Sex\nDream,MALE\n');
    const short = await execa('node', [BIN, 'predict', run.runDir, missing], { cwd: work, reject: false });
    expect(short.exitCode).toBe(2);
    expect(short.stderr).toContain("short.csv lacks columns 'Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'");
    const huge = join(work, 'huge.csv');
    writeFileSync(huge, 'Island,Beak Length (mm),Beak Depth (mm),Flipper Length (mm),Body Mass (g),Sex\nDream,39.1,18.7,181,3750,MALE\nDream,1e400,18.7,181,3750,MALE\n');
    const overflow = await execa('node', [BIN, 'predict', run.runDir, huge], { cwd: work, reject: false });
    expect(overflow.exitCode).toBe(2);
    expect(overflow.stderr).toContain("huge.csv line 3, column 'Beak Length (mm)': '1e400' is beyond the range of a 32-bit float");
    expect(overflow.stdout).toBe('');
  });

  it('predicts miles per gallon for car rows (regression: a value)', async () => {
    const run = await runCommand({ spec: join(EXPERIMENTS, 'cars-regression.yaml'), set: ['train.epochs=30'], out: join(work, 'runs') });
    const cars = JSON.parse(readFileSync(join(EXPERIMENTS, '../node_modules/vega-datasets/data/cars.json'), 'utf8')) as Record<string, unknown>[];
    const file = join(work, 'cars.json');
    const sample = cars.filter((c) => c['Horsepower'] !== null && c['Miles_per_Gallon'] !== null).slice(0, 5);
    writeFileSync(file, JSON.stringify(sample));
    const predictions = await predictCommand({ run: run.runDir, inputs: [file] });
    expect(predictions).toHaveLength(5);
    for (const p of predictions) {
      expect(p.class).toBeUndefined();
      expect(Math.abs(p.value! - Number(p.actual))).toBeLessThan(10);
    }
  });
});
