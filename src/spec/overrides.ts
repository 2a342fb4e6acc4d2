import { parse } from 'yaml';
import { RunnerError } from '../core/errors.js';

/** One `--set key.path=value` override: the path into the spec and the parsed value. */
export interface Override {
  readonly text: string;
  readonly path: readonly (string | number)[];
  readonly value: unknown;
  /** Where the override came from, for messages; default `--set <text>`. */
  readonly source?: string;
}

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
  let value: unknown;
  try {
    value = parse(text.slice(eq + 1), { maxAliasCount: 0 });
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
