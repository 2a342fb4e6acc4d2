import type { TokenizeArgs } from '../../spec/types.js';

/** Index 0 pads a sequence; index 1 stands for any token not in the vocabulary. */
export const PAD = 0;
export const OOV = 1;

// Letters (any script) and digits form words; anything else separates them.
const WORD = /[\p{L}\p{N}]+/gu;

/** A document's tokens: words, characters or a pattern's matches, lowercased if asked, with n-grams of 2..n appended. */
export function tokenize(text: string, { split, pattern, lowercase, ngrams }: TokenizeArgs): string[] {
  const source = lowercase ? text.toLowerCase() : text;
  const base = pattern !== undefined ? [...source.matchAll(new RegExp(pattern, 'gu'))].map((m) => m[0]).filter((t) => t !== '')
    : split === 'word' ? source.match(WORD) ?? [] : [...source];
  const out = [...base];
  const sep = split === 'char' && pattern === undefined ? '' : ' ';
  for (let n = 2; n <= ngrams; n++) {
    for (let i = 0; i + n <= base.length; i++) out.push(base.slice(i, i + n).join(sep));
  }
  return out;
}

/** The training split's tokens seen at least minCount times, most frequent first (ties in code-point order), at most maxTokens. */
export function fitVocabulary(docs: readonly string[][], maxTokens: number, minCount: number): string[] {
  const counts = new Map<string, number>();
  for (const doc of docs) for (const t of doc) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts].filter(([, n]) => n >= minCount)
    .sort(([a, na], [b, nb]) => nb - na || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, maxTokens)
    .map(([t]) => t);
}

/** Token to index: the vocabulary's entries from 2 on. */
export function indexOf(vocabulary: readonly string[]): Map<string, number> {
  return new Map(vocabulary.map((t, i) => [t, i + 2]));
}

/** One document as `length` indices: cut at the start (pre) or end (post), padded with 0 before (pre) or after (post). */
export function toSequence(tokens: readonly string[], index: ReadonlyMap<string, number>, length: number, padding: 'pre' | 'post', truncation: 'pre' | 'post', out: Float32Array, at: number): void {
  const kept = tokens.length <= length ? tokens : truncation === 'pre' ? tokens.slice(tokens.length - length) : tokens.slice(0, length);
  const start = padding === 'pre' ? length - kept.length : 0;
  out.fill(PAD, at, at + length);
  kept.forEach((t, i) => { out[at + start + i] = index.get(t) ?? OOV; });
}

/** Document frequencies over the training split, per index (2 + vocabulary position). */
export function documentFrequencies(docs: readonly string[][], index: ReadonlyMap<string, number>, size: number): Float64Array {
  const df = new Float64Array(size);
  for (const doc of docs) {
    for (const i of new Set(doc.map((t) => index.get(t) ?? OOV))) df[i]! += 1;
  }
  return df;
}

/** Smoothed inverse document frequency, as scikit-learn's: ln((1 + N) / (1 + df)) + 1. */
export function inverseFrequencies(df: Float64Array, documents: number): number[] {
  return Array.from(df, (d) => Math.log((1 + documents) / (1 + d)) + 1);
}

/** One document as a vector over the indices: counts, presence, or counts times idf. */
export function toBag(tokens: readonly string[], index: ReadonlyMap<string, number>, mode: 'count' | 'binary' | 'tfidf', idf: readonly number[] | undefined, out: Float32Array, at: number, size: number): void {
  out.fill(0, at, at + size);
  for (const t of tokens) {
    const i = at + (index.get(t) ?? OOV);
    out[i] = mode === 'binary' ? 1 : out[i]! + 1;
  }
  if (mode === 'tfidf') for (let k = 0; k < size; k++) out[at + k] = Math.fround(out[at + k]! * idf![k]!);
}
