import { readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type YAMLMap } from 'yaml';
import { SpecError, type SpecProblem } from '../core/errors.js';
import type { Locate } from './locate.js';

/** How deep bases may include bases. */
const MAX_EXTENDS_DEPTH = 8;
/** Each base's node offsets are moved to a range of their own, so one `locate` finds any node's file and line. */
const FILE_SPAN = 1 << 24;
const MAX_BASE_BYTES = 1024 * 1024;
/** The top-level keys in the order a spec is written (unknown ones after them). */
const TOP_KEYS = ['name', 'description', 'seed', 'backend', 'threads', 'data', 'preprocess', 'model', 'compile', 'train', 'evaluate', 'sweep'];

interface SourceFile { readonly shown: string; readonly lines: LineCounter; readonly via?: string }

/**
 * Resolves `extends: base.yaml` (or a list, applied in order) at the top of a spec: each base is
 * read, its own extends resolved, and the spec's keys deep-merged over it (mappings merge, lists
 * and scalars replace, null removes a key). The document is changed in place; the `locate` it
 * returns places a node of any of the files at its own file and line ("included from" the line
 * that named it). Missing bases, cycles and chains deeper than 8 are located problems (exit 2).
 */
export function composeSpec(file: string, doc: Document, lines: LineCounter): Locate {
  const files: SourceFile[] = [{ shown: file, lines }];
  const locate: Locate = (offset) => {
    if (offset === undefined) return {};
    const index = Math.floor(offset / FILE_SPAN);
    const f = files[index]!;
    const pos = f.lines.linePos(offset - index * FILE_SPAN);
    return index === 0 ? pos : { ...pos, file: f.shown, ...(f.via ? { via: f.via } : {}) };
  };
  const problems: SpecProblem[] = [];
  const at = (node: Node | undefined, message: string): SpecProblem => ({ path: 'extends', ...locate(node?.range?.[0]), message });

  const compose = (d: Document, path: string, chain: readonly string[]) => {
    const node = d.get('extends', true) as Node | undefined;
    if (node === undefined || !isMap(d.contents)) return;
    d.delete('extends');
    const names = isScalar(node) && typeof node.value === 'string' ? [node] : isSeq(node) && node.items.every((i) => isScalar(i) && typeof i.value === 'string') ? (node.items as Node[]) : undefined;
    if (!names) return void problems.push(at(node, 'expected a file name or a list of file names'));
    const merged: Document[] = [];
    for (const name of names) {
      const target = resolve(dirname(path), String((name as unknown as { value: string }).value));
      const shown = relative(process.cwd(), target) || target;
      const cycle = chain.indexOf(target);
      if (cycle >= 0) return void problems.push(at(name, `extends cycle: ${[...chain.slice(cycle), target].map((f) => relative(process.cwd(), f) || f).join(' -> ')}`));
      if (chain.length > MAX_EXTENDS_DEPTH) return void problems.push(at(name, `bases extend bases more than ${MAX_EXTENDS_DEPTH} levels deep`));
      let text: string;
      try {
        const stat = statSync(target);
        if (!stat.isFile()) throw new Error('not a file');
        if (stat.size > MAX_BASE_BYTES) throw new Error('over 1 MiB');
        text = readFileSync(target, 'utf8');
      } catch (err) {
        const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
        return void problems.push(at(name, `cannot read base spec '${shown}' (${target}): ${why}`));
      }
      const baseLines = new LineCounter();
      const base = parseDocument(text, { lineCounter: baseLines, uniqueKeys: true });
      const nameLine = locate(name.range?.[0]);
      const via = `${nameLine.file ?? (relative(process.cwd(), file) || file)} line ${nameLine.line ?? 1}`;
      const index = files.push({ shown, lines: baseLines, via }) - 1;
      if (base.errors.length) return void problems.push(...base.errors.map((e) => ({ path: '', file: shown, via, line: e.linePos?.[0].line, col: e.linePos?.[0].col, message: e.message.split('\n')[0]! })));
      if (!isMap(base.contents)) return void problems.push({ path: '', file: shown, via, message: 'a base spec must be a YAML mapping' });
      visit(base, { Node: (_k, n) => void (n.range &&= [n.range[0] + index * FILE_SPAN, n.range[1] + index * FILE_SPAN, n.range[2] + index * FILE_SPAN]) });
      compose(base, target, [...chain, target]);
      merged.push(base);
    }
    // Bases in order, then this file's own keys on top.
    const own = d.contents as YAMLMap;
    const result = merged.reduce<YAMLMap | undefined>((acc, b) => (acc ? mergeMaps(acc, b.contents as YAMLMap) : (b.contents as YAMLMap)), undefined)!;
    d.contents = mergeMaps(result, own);
  };
  const based = doc.has('extends');
  compose(doc, resolve(file), [resolve(file)]);
  if (problems.length) throw new SpecError(file, problems);
  // The merged spec reads in the usual order (resolved.yaml, validate --print), whichever file a key came from.
  if (based && isMap(doc.contents)) {
    const rank = (k: unknown) => (TOP_KEYS.indexOf(String(k)) + TOP_KEYS.length + 1) % (TOP_KEYS.length + 1);
    doc.contents.items.sort((a, b) => rank(isScalar(a.key) ? a.key.value : a.key) - rank(isScalar(b.key) ? b.key.value : b.key));
  }
  return locate;
}

/** `over` merged into `target` (changed): mappings merge key by key, anything else replaces, an explicit null removes the key. */
function mergeMaps(target: YAMLMap, over: YAMLMap): YAMLMap {
  for (const pair of over.items) {
    const key = isScalar(pair.key) ? pair.key.value : pair.key;
    const value = pair.value as Node | null;
    const existing = target.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
    if (isScalar(value) && value.value === null) {
      if (existing) target.items.splice(target.items.indexOf(existing), 1);
    } else if (existing && isMap(existing.value) && isMap(value)) {
      mergeMaps(existing.value, value);
    } else if (existing) {
      existing.value = value;
    } else {
      target.items.push(pair);
    }
  }
  return target;
}
