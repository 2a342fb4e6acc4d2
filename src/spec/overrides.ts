import { parseDocument, visit } from 'yaml';
import { RunnerError } from '../core/errors.js';

/** One `--set key.path=value` override: the path into the spec and the parsed value. */
export interface Override {
  readonly text: string;
  readonly path: readonly (string | number)[];
  readonly value: unknown;
  /** Where the override came from, for messages; default `--set <text>`. */
  readonly source?: string;
}

/** Keys that would reach an object's prototype: no spec has them, and no --set may write them. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The place an override is reported at: `--set train.epochs=0`, or a sweep parameter's line. */
export function sourceOf(o: Override): string {
  return o.source ?? `--set ${o.text}`;
}

/** Parses `key.path=value`; numeric segments index lists, the value is read as YAML. */
export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  const key = eq < 0 ? '' : text.slice(0, eq).trim();
  if (eq < 0 || key === '') {
    throw new RunnerError(`--set '${text}': expected key.path=value, e.g. --set train.epochs=1`);
  }
  const segments = key.split('.');
  if (segments.some((s) => s === '')) {
    throw new RunnerError(`--set '${text}': the key path '${key}' has an empty segment`);
  }
  const reserved = segments.find((s) => RESERVED_KEYS.has(s));
  if (reserved !== undefined) throw new RunnerError(`--set '${text}': '${reserved}' is not a key a spec can have`);
  // Parsed as the spec file is: one document, no tags (which some loaders turn into code), no aliases.
  const doc = parseDocument(text.slice(eq + 1));
  const error = doc.errors[0] ?? doc.warnings.find((w) => w.code !== 'TAG_RESOLVE_FAILED');
  if (error) throw new RunnerError(`--set '${text}': the value is not valid YAML (${error.message.split('\n')[0]})`);
  let tag: string | undefined;
  visit(doc, { Node: (_key, node) => void (tag ??= node.tag) });
  if (tag) throw new RunnerError(`--set '${text}': YAML tag '${tag}' is not allowed: a spec is plain data`);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 0 });
  } catch (err) {
    throw new RunnerError(`--set '${text}': the value is not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  return { text, path: parseKeyPath(key), value: value ?? null };
}

/** `model.layers.0.dense.units` as a path: numeric segments index lists. */
export function parseKeyPath(key: string): (string | number)[] {
  return key.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** Dotted display form of a path: `model.layers[1].dense.units`. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}
