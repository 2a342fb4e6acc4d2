import { describe, expect, it } from 'vitest';
import { canonicalJson, specHash, variantHash } from '../../src/spec/hash.js';

const spec = { name: 'x', seed: 1, backend: 'wasm', threads: 'auto', train: { epochs: 2, batchSize: 32 } };

describe('spec hashes', () => {
  it('do not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
    expect(specHash({ train: { batchSize: 32, epochs: 2 }, threads: 'auto', backend: 'wasm', seed: 1, name: 'x' })).toBe(specHash(spec));
  });

  it('change with any value that decides the results', () => {
    expect(specHash({ ...spec, backend: 'cpu' })).not.toBe(specHash(spec));
    expect(specHash({ ...spec, train: { epochs: 3, batchSize: 32 } })).not.toBe(specHash(spec));
    expect(specHash({ ...spec, seed: 2 })).not.toBe(specHash(spec));
  });

  it('leave threads out: speed only, and a spec written before threads existed keeps its hash', () => {
    const { threads: _t, ...before } = spec;
    expect(specHash({ ...spec, threads: 2 })).toBe(specHash(spec));
    expect(specHash(before)).toBe(specHash(spec));
  });

  it('group seeds of one variant under one variant hash', () => {
    expect(variantHash({ ...spec, seed: 2 })).toBe(variantHash(spec));
    expect(variantHash({ ...spec, backend: 'cpu' })).not.toBe(variantHash(spec));
  });
});
