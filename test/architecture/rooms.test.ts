import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The rooms of src/, lowest first: a file may import from its own room and the rooms before it. */
export const ROOMS = ['core', 'spec', 'data', 'backend', 'model', 'train', 'runs', 'stages', 'pipeline', 'results', 'sweep', 'commands', 'cli', 'bench'] as const;

const SRC = new URL('../../src/', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every relative import of a file (static, type-only, re-export and dynamic), as absolute .ts paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1]!);
  return specs.map((s) => resolve(dirname(file), s).replace(/\.js$/, '.ts'));
}

const roomOf = (file: string) => relative(SRC, file).split('/')[0]!;

const files = sources(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe('the room map of src/', () => {
  it('puts every source file in a known room', () => {
    const outside = files.filter((f) => !(ROOMS as readonly string[]).includes(roomOf(f))).map((f) => relative(SRC, f));
    expect(outside).toEqual([]);
  });

  it('has no import from a lower room into a higher one', () => {
    const rank = (f: string) => ROOMS.indexOf(roomOf(f) as (typeof ROOMS)[number]);
    const upward = [...graph].flatMap(([from, targets]) => targets.filter((t) => rank(t) > rank(from)).map((t) => `${relative(SRC, from)} -> ${relative(SRC, t)}`));
    expect(upward).toEqual([]);
  });

  it('has no import cycle between files', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(SRC, p)).join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('finds the imports it checks (the check itself can fail)', () => {
    const fit = graph.get(join(SRC, 'stages/fit.ts')) ?? [];
    expect(fit.some((t) => relative(SRC, t).startsWith('train/'))).toBe(true);
    expect(roomOf(join(SRC, 'stages/fit.ts'))).toBe('stages');
  });
});
