import type { ErrorObject } from 'ajv/dist/2020.js';
import { isMap, isScalar, type Document } from 'yaml';
import type { SpecProblem } from '../core/errors.js';
import type { Locate } from './locate.js';
import { formatPath } from './overrides.js';
import { didYouMean } from '../core/suggest.js';

type Path = (string | number)[];
interface SchemaNode { type?: string; title?: string; properties?: Record<string, unknown>; pattern?: string; maxProperties?: number }

/** Turns ajv errors into problems a person can act on: key path, line, expected, found, did-you-mean. */
export function schemaProblems(errors: readonly ErrorObject[], doc: Document, data: unknown, locate: Locate): SpecProblem[] {
  const seen = new Set<string>();
  const problems: SpecProblem[] = [];
  // if/then only picks a branch (tables or images): the branch's own errors say what is wrong.
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf');
  const inBranch = (e: ErrorObject) => anyOfs.some((a) => a !== e && e.instancePath === a.instancePath && e.schemaPath.startsWith(`${a.schemaPath}/`));
  for (const e of errors) {
    if (e.keyword === 'if' || inBranch(e)) continue;
    const path = pointerToPath(e.instancePath);
    const p = e.keyword === 'anyOf'
      ? describeAnyOf(e, errors.filter((b) => b.instancePath === e.instancePath && b.schemaPath.startsWith(`${e.schemaPath}/`)), path, doc, data, locate)
      : describe(e, path, doc, data, locate);
    const key = `${p.path}|${p.message}`;
    if (!seen.has(key)) problems.push(p);
    seen.add(key);
  }
  return problems.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.col ?? 0) - (b.col ?? 0));
}

function describe(e: ErrorObject, path: Path, doc: Document, data: unknown, locate: Locate): SpecProblem {
  const parent = (e.parentSchema ?? {}) as SchemaNode;
  const at = (p: Path, keyOf?: string) => ({ path: formatPath(keyOf === undefined ? p : [...p, keyOf]), ...locate(offsetOf(doc, p, keyOf)) });
  const found = valueAt(data, path);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const allowed = Object.keys(parent.properties ?? {});
      const hint = didYouMean(key, allowed);
      const what = parent.title ? `unknown ${parent.title} '${key}'` : `unknown key '${key}'`;
      const suggestion = hint ? `; did you mean '${hint}'?` : '';
      return { ...at(path, key), message: `${what}${suggestion} (expected one of: ${allowed.join(', ')})` };
    }
    case 'required':
      return { ...at(path), message: `missing required key '${String(params['missingProperty'])}'` };
    case 'type':
      return { ...at(path), message: `expected ${article(String(params['type']))}, got ${describeFound(found)}` };
    case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum':
      return { ...at(path), message: `expected ${bound(e)}, got ${describeFound(found)}` };
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).map(String);
      const hint = typeof found === 'string' ? didYouMean(found, allowed) : undefined;
      const suggestion = hint ? `; did you mean '${hint}'?` : '';
      return { ...at(path), message: `unknown value ${describeFound(found)}${suggestion} (expected one of: ${allowed.join(', ')})` };
    }
    case 'minProperties': case 'maxProperties': {
      const keys = Object.keys((found ?? {}) as object);
      const options = Object.keys(parent.properties ?? {}).join(', ');
      const got = keys.length ? `got ${keys.length}: ${keys.join(', ')}` : 'got none';
      return { ...at(path), message: `expected exactly one ${parent.title ?? 'key'} (one of: ${options}), ${got}` };
    }
    case 'minItems':
      return { ...at(path), message: `expected at least ${String(params['limit'])} item(s), got ${Array.isArray(found) ? found.length : 0}` };
    case 'uniqueItems':
      return { ...at(path), message: `has duplicate items (positions ${String(params['j'])} and ${String(params['i'])})` };
    case 'pattern':
      return { ...at(path), message: `${describeFound(found)} is not allowed here (expected letters, digits and _ . -, matching ${parent.pattern ?? String(params['pattern'])})` };
    default:
      return { ...at(path), message: `${e.message ?? 'is invalid'}${found === undefined ? '' : `, got ${describeFound(found)}`}` };
  }
}

/** What a bound asks for: 'an integer >= 1', 'a number < 1'. */
function bound(e: ErrorObject): string {
  const noun = (e.parentSchema as SchemaNode | undefined)?.type === 'integer' ? 'an integer' : 'a number';
  return `${noun} ${String((e.params as Record<string, unknown>)['comparison'])} ${String((e.params as Record<string, unknown>)['limit'])}`;
}

/** One problem for a value that matches none of several forms: each form expected, what was found, a did-you-mean. */
function describeAnyOf(e: ErrorObject, branches: readonly ErrorObject[], path: Path, doc: Document, data: unknown, locate: Locate): SpecProblem {
  const found = valueAt(data, path);
  const expected = [...new Set(branches.map((b) => {
    const params = b.params as Record<string, unknown>;
    if (b.keyword === 'type') return article(String(params['type']));
    if (['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'].includes(b.keyword)) return bound(b);
    if (b.keyword === 'enum') return `one of: ${(params['allowedValues'] as unknown[]).map(String).join(', ')}`;
    return b.message ?? 'another form';
  }))];
  const words = branches.filter((b) => b.keyword === 'enum').flatMap((b) => ((b.params as { allowedValues: unknown[] }).allowedValues).map(String));
  const hint = typeof found === 'string' ? didYouMean(found, words) : undefined;
  return { path: formatPath(path), ...locate(offsetOf(doc, path)), message: `expected ${expected.join(', or ')}, got ${describeFound(found)}${hint ? `; did you mean '${hint}'?` : ''}` };
}

function pointerToPath(pointer: string): Path {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** Offset of the value at `path` (or of the key `keyOf` inside it); the nearest existing ancestor otherwise. */
function offsetOf(doc: Document, path: Path, keyOf?: string): number | undefined {
  if (keyOf !== undefined) {
    const node = doc.getIn(path, true);
    if (isMap(node)) {
      const pair = node.items.find((it) => (isScalar(it.key) ? it.key.value : it.key) === keyOf);
      const keyNode = pair?.key as { range?: [number, number, number] } | undefined;
      if (keyNode?.range) return keyNode.range[0];
    }
  }
  for (let n = path.length; n >= 0; n--) {
    const node = (n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true)) as { range?: [number, number, number] } | null;
    if (node?.range) return node.range[0];
  }
  return undefined;
}

function valueAt(data: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, seg) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[seg] : undefined), data);
}

function article(type: string): string {
  const names: Record<string, string> = { object: 'a mapping', array: 'a list', integer: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false', null: 'nothing' };
  return names[type] ?? type;
}

/** Short description of a found value for messages: 'relux', 0, a list, a mapping. */
export function describeFound(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null (empty value)';
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`;
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}
