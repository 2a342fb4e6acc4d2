import { readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { Document, LineCounter, isCollection, isMap, isPair, isSeq, parseDocument, stringify, visit } from 'yaml';
import { RunnerError, SpecError, type SpecProblem } from '../core/errors.js';
import { formatPath, sourceOf, type Override } from './overrides.js';
import type { SweepSpec } from './sweep-types.js';
import type { ExperimentSpec } from './types.js';
import { schemaProblems } from './schema-problems.js';
import { locateProblem, type Locate } from './locate.js';
import { composeSpec } from './extends.js';
import { semanticProblems } from './rules.js';
import { validateAgainstSchema } from './validator.js';

/** Aliases may be used, but expanding them is bounded (no "billion laughs"). */
const MAX_ALIAS_COUNT = 100;

/** A spec that passed every check: the text as given and the resolved object. */
export interface LoadedSpec {
  readonly file: string;
  readonly text: string;
  readonly spec: ExperimentSpec;
  /** The resolved experiment without its sweep block: what a run (or a trial) uses. */
  readonly resolvedYaml: string;
  readonly sweep?: SweepSpec;
  /** A problem at a key of the spec: located at its line, or at the --set argument that set it. */
  problemAt(path: readonly (string | number)[], message: string): SpecProblem;
}

/** Reads, parses, overrides and validates a spec file; throws SpecError listing every problem. */
export function loadSpec(file: string, overrides: readonly Override[] = []): LoadedSpec {
  const text = readSpecText(file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });

  // Unresolved tags are reported below with the reason they are refused.
  const syntax = [...doc.errors, ...doc.warnings.filter((w) => w.code !== 'TAG_RESOLVE_FAILED')].map((e): SpecProblem => {
    const pos = e.linePos?.[0];
    return { path: '', line: pos?.line, col: pos?.col, message: syntaxMessage(e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')) };
  });
  if (syntax.length) throw new SpecError(file, syntax);
  if (doc.contents === null) throw new RunnerError(`${file} is empty: expected a YAML mapping with data, model and compile`);
  // extends: the bases merged under this file's keys; locate finds a node in whichever file it came from.
  const locate = composeSpec(file, doc, lineCounter);

  const deep = depthProblem(doc, locate);
  if (deep) throw new SpecError(file, [deep]);
  const tags = explicitTags(doc, locate);
  if (tags.length) throw new SpecError(file, tags);

  const applied = overrides.map((o) => applyOverride(doc, o));
  const overrideProblems = applied.filter((p): p is SpecProblem => p !== undefined);
  if (overrideProblems.length) throw new SpecError(file, overrideProblems);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw new SpecError(file, [{ path: '', message: `cannot expand the YAML: ${(err as Error).message}` }]);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new SpecError(file, [{ path: '', ...locate(doc.contents.range?.[0]), message: `expected a mapping at the top level, got ${Array.isArray(data) ? 'a list' : typeof data}` }]);
  }
  const obj = data as Record<string, unknown>;
  obj['name'] ??= defaultName(file);

  const errors = validateAgainstSchema(obj);
  const problems = errors.length
    ? schemaProblems(errors, doc, obj, locate)
    : semanticProblems(obj as unknown as ExperimentSpec, doc, locate);
  if (problems.length) throw new SpecError(file, problems.map((p) => attributeToOverride(p, overrides)));
  const { sweep, ...experiment } = obj;
  return {
    file, text, spec: experiment as unknown as ExperimentSpec, resolvedYaml: stringify(experiment), sweep: sweep as SweepSpec | undefined,
    problemAt: (path, message) => attributeToOverride(locateProblem(doc, locate, path, message), overrides),
  };
}

/** The largest spec and its deepest nesting: far beyond any real experiment, and no time, memory or stack spent on a hostile one. */
const MAX_SPEC_BYTES = 1024 * 1024;
const MAX_DEPTH = 64;

/** What the YAML library says, in the words a spec's author needs. */
function syntaxMessage(message: string): string {
  if (/multiple documents/.test(message)) return "a second YAML document starts here (---): a spec is a single document";
  if (/Maximum call stack/.test(message)) return `the YAML nests too deeply (a spec nests at most ${MAX_DEPTH} levels)`;
  return message;
}

/** The first node nested deeper than MAX_DEPTH, found without recursion (the walk itself must not overflow). */
function depthProblem(doc: Document, locate: Locate): SpecProblem | undefined {
  const stack: [unknown, number][] = [[doc.contents, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (!isCollection(node)) continue;
    if (depth > MAX_DEPTH) return { path: '', ...locate(node.range?.[0]), message: `the YAML nests ${MAX_DEPTH + 1} or more levels deep here; a spec nests at most ${MAX_DEPTH}` };
    for (const item of node.items as unknown[]) {
      const child = isPair(item) ? item.value : item;
      stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

function readSpecText(file: string): string {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    throw new RunnerError(`cannot read spec '${file}': no such file`, 2, ['check the path; experiments live in experiments/*.yaml']);
  }
  if (stat.isDirectory()) throw new RunnerError(`'${file}' is a directory: expected a YAML spec file`);
  if (!stat.isFile()) throw new RunnerError(`'${file}' is not a regular file (a device, FIFO or socket): expected a YAML spec file`);
  if (stat.size > MAX_SPEC_BYTES) throw new RunnerError(`${file} is ${(stat.size / 2 ** 20).toFixed(1)} MiB; a spec is at most 1 MiB`, 2, ['a spec declares an experiment; data belongs in data files']);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RunnerError(`cannot read spec '${file}': ${(err as Error).message}`);
  }
  if (text.trim() === '' || text.split('\n').every((l) => l.trim() === '' || l.trim().startsWith('#'))) {
    throw new RunnerError(`${file} is empty: expected a YAML mapping with data, model and compile`);
  }
  return text;
}

/** A spec is data only: explicit tags (which some loaders turn into code) are refused. */
function explicitTags(doc: Document, locate: Locate): SpecProblem[] {
  const problems: SpecProblem[] = [];
  visit(doc, {
    Node(_key, node) {
      if (node.tag) problems.push({ path: '', ...locate(node.range?.[0]), message: `YAML tag '${node.tag}' is not allowed: a spec is plain data` });
    },
  });
  return problems;
}

/** Sets one override in the document, keeping the positions of everything else. */
function applyOverride(doc: Document, o: Override): SpecProblem | undefined {
  for (let i = 0; i < o.path.length - 1; i++) {
    const node = doc.getIn(o.path.slice(0, i + 1), true);
    if (node === undefined) break;
    const next = o.path[i + 1];
    if (typeof next === 'number' && !isSeq(node)) {
      return { path: formatPath(o.path.slice(0, i + 1)), source: sourceOf(o), message: 'is not a list, so it cannot be indexed' };
    }
    if (typeof next === 'number' && isSeq(node) && next >= node.items.length) {
      return { path: formatPath(o.path.slice(0, i + 1)), source: sourceOf(o), message: `has ${node.items.length} items; index ${next} is out of range` };
    }
    if (typeof next === 'string' && !isMap(node)) {
      return { path: formatPath(o.path.slice(0, i + 1)), source: sourceOf(o), message: `is not a mapping, so it has no key '${next}'` };
    }
  }
  if (!isMap(doc.contents)) return { path: '', source: sourceOf(o), message: 'the spec is not a mapping' };
  try {
    doc.setIn(o.path, doc.createNode(o.value));
  } catch (err) {
    return { path: formatPath(o.path), source: sourceOf(o), message: `cannot be set: ${(err as Error).message}` };
  }
  return undefined;
}

/** A problem at or under an overridden key is reported against the --set argument. */
function attributeToOverride(p: SpecProblem, overrides: readonly Override[]): SpecProblem {
  const hit = [...overrides].reverse().find((o) => {
    const key = formatPath(o.path);
    return p.path === key || p.path.startsWith(`${key}.`) || p.path.startsWith(`${key}[`);
  });
  return hit ? { path: p.path, source: sourceOf(hit), message: p.message } : p;
}

function defaultName(file: string): string {
  const base = basename(file, extname(file)).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return base.slice(0, 64) || 'experiment';
}
