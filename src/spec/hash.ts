import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal specs hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * 12 hex digits of sha256 of the canonical JSON: a run's (or a trial's) identity, which is what
 * decides its results. `threads` is left out: it sets speed only (results are bitwise the same on
 * any thread count), and specs written before it existed keep their hash.
 */
export function specHash(spec: object): string {
  const { threads: _threads, ...identity } = spec as Record<string, unknown>;
  return createHash('sha256').update(canonicalJson(identity)).digest('hex').slice(0, 12);
}

/** The identity of a variant: the spec without its seed, so seeds of one variant group together. */
export function variantHash(spec: object): string {
  const { seed: _seed, ...rest } = spec as Record<string, unknown>;
  return specHash(rest);
}
