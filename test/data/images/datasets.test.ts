import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeIdx } from '../../../src/data/images/idx.js';
import { Datasets } from '../../../src/data/images/datasets.js';
import type { DataSpec } from '../../../src/spec/types.js';

const dir = mkdtempSync(join(tmpdir(), 'runner-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = { warn: () => {}, info: () => {} };
/** A fresh run's datasets, with its own empty cache folder and no downloads. */
const resolveDataset = (...args: Parameters<Datasets['resolve']>) => new Datasets(join(dir, 'cache'), true).resolve(...args);
const base: DataSpec = { dataset: 'idx', download: false, allowEmbedded: true, validationSplit: 0 };

/** Writes a tiny IDX dataset (n train, m test, 4x4 images) in standard names. */
function writeSet(folder: string, n: number, m: number, gzip = false): void {
  mkdirSync(folder, { recursive: true });
  const put = (name: string, dims: number[], data: Uint8Array) => writeFileSync(join(folder, name + (gzip ? '.gz' : '')), gzip ? gzipSync(encodeIdx(dims, data)) : encodeIdx(dims, data));
  put('train-images-idx3-ubyte', [n, 4, 4], Uint8Array.from({ length: n * 16 }, (_, i) => i % 256));
  put('train-labels-idx1-ubyte', [n], Uint8Array.from({ length: n }, (_, i) => i % 3));
  put('t10k-images-idx3-ubyte', [m, 4, 4], new Uint8Array(m * 16));
  put('t10k-labels-idx1-ubyte', [m], Uint8Array.from({ length: m }, (_, i) => i % 3));
}

describe('Datasets.resolve', () => {
  it('reads an idx folder given by data.path, relative to the spec folder', async () => {
    writeSet(join(dir, 'set'), 6, 3, true);
    const ds = await resolveDataset({ ...base, path: 'set' }, dir, quiet);
    expect(ds.exampleShape).toEqual([4, 4]);
    expect(ds.train.count).toBe(6);
    expect(ds.numClasses).toBe(3);
    expect(ds.source.kind).toBe('path');
    expect(ds.source.files).toHaveLength(4);
    expect(ds.source.files[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names the missing files when data.path lacks some', async () => {
    mkdirSync(join(dir, 'half'));
    writeFileSync(join(dir, 'half', 'train-images-idx3-ubyte'), encodeIdx([1, 4, 4], new Uint8Array(16)));
    await expect(resolveDataset({ ...base, dataset: 'mnist', path: 'half' }, dir, quiet)).rejects.toThrow(/does not hold the IDX files/);
  });

  it('rejects images and labels of different counts', async () => {
    writeSet(join(dir, 'odd'), 6, 3);
    writeFileSync(join(dir, 'odd', 'train-labels-idx1-ubyte'), encodeIdx([5], new Uint8Array(5)));
    await expect(resolveDataset({ ...base, path: 'odd' }, dir, quiet)).rejects.toThrow(/train-images-idx3-ubyte holds 6 images but \S+train-labels-idx1-ubyte holds 5 labels/);
  });

  it('names the test files when the test images and labels disagree', async () => {
    writeSet(join(dir, 'oddtest'), 6, 3);
    writeFileSync(join(dir, 'oddtest', 't10k-labels-idx1-ubyte'), encodeIdx([2], new Uint8Array(2)));
    await expect(resolveDataset({ ...base, path: 'oddtest' }, dir, quiet)).rejects.toThrow(/t10k-images-idx3-ubyte holds 3 images but \S+t10k-labels-idx1-ubyte holds 2 labels/);
  });

  it('falls back to the embedded digits for mnist, with a warning', async () => {
    const warnings: string[] = [];
    const ds = await resolveDataset({ ...base, dataset: 'mnist' }, dir, { warn: (m) => warnings.push(m), info: () => {} });
    expect(ds.source.kind).toBe('embedded');
    expect(warnings.join()).toContain('full MNIST not found');
  });

  it('fails with the places it looked when nothing is found and the fallback is off', async () => {
    await expect(resolveDataset({ ...base, dataset: 'mnist', allowEmbedded: false }, dir, quiet)).rejects.toThrow("dataset 'mnist' was not found");
  });
});

describe('hostile IDX inputs', () => {
  it('refuses a gzip whose header announces more than the limit, before inflating it', async () => {
    const folder = join(dir, 'bomb');
    writeSet(folder, 6, 3, true);
    // 1,000,000 images of 28x28 zeros: 784 MB inflated, under a megabyte gzipped.
    const header = encodeIdx([1_000_000, 28, 28], new Uint8Array(0));
    writeFileSync(join(folder, 'train-images-idx3-ubyte.gz'), gzipSync(Buffer.concat([header, Buffer.alloc(50 * 2 ** 20)])));
    const small = new Datasets(join(dir, 'cache-bomb'), true, { fileBytes: 16 * 2 ** 20, pixels: 1e6 });
    const started = performance.now();
    await expect(small.resolve({ ...base, path: 'bomb' }, dir, quiet)).rejects.toThrow('its header announces 748 MiB of data, over the 16 MiB runner reads');
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('refuses a gzip that inflates past what its header announces', async () => {
    const folder = join(dir, 'long');
    writeSet(folder, 6, 3, true);
    writeFileSync(join(folder, 'train-labels-idx1-ubyte.gz'), gzipSync(Buffer.concat([encodeIdx([6], new Uint8Array(6)), Buffer.alloc(2 ** 20)])));
    await expect(resolveDataset({ ...base, path: 'long' }, dir, quiet)).rejects.toThrow('decompresses to more than the 14 bytes its header announces');
  });

  it('never opens a FIFO named as an IDX file (it would wait forever)', async () => {
    const folder = join(dir, 'fifo');
    writeSet(folder, 6, 3);
    rmSync(join(folder, 'train-images-idx3-ubyte'));
    execFileSync('mkfifo', [join(folder, 'train-images-idx3-ubyte')]);
    await expect(resolveDataset({ ...base, path: 'fifo' }, dir, quiet)).rejects.toThrow('is not a regular file');
  });
});
