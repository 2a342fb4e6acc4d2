import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { SpecError } from '../../src/core/errors.js';
import { specHash } from '../../src/spec/hash.js';
import { loadSpec } from '../../src/spec/load.js';
import { parseOverride } from '../../src/spec/overrides.js';
import { planSweep } from '../../src/sweep/plan.js';
import { FIXTURES } from '../helpers.js';

const BIN = new URL('../../bin/runner.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'runner-extends-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  mkdirSync(join(dir, name, '..'), { recursive: true });
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const TINY = readFileSync(join(FIXTURES, 'tiny-mlp.yaml'), 'utf8');
const problemsOf = (file: string) => {
  try {
    loadSpec(file);
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return (err as SpecError).details.join('\n');
  }
  throw new Error('expected the spec to be refused');
};

describe('extends', () => {
  write('base/tiny.yaml', TINY);

  it('deep-merges the spec over its base: mappings merge, lists replace, null removes a key; the hash is the merged spec\'s', () => {
    const child = write('child.yaml', 'extends: base/tiny.yaml\ntrain: { epochs: 3 }\nmodel:\n  layers:\n    - dense: { units: 10, activation: softmax }\ndata: { testLimit: null }\n');
    const base = loadSpec(join(dir, 'base/tiny.yaml')).spec;
    const { spec, resolvedYaml } = loadSpec(child);
    expect(spec.train.epochs).toBe(3);
    expect(spec.train.batchSize).toBe(base.train.batchSize);
    expect(spec.model.layers).toHaveLength(1);
    expect('testLimit' in spec.data).toBe(false);
    expect(resolvedYaml).not.toContain('extends');
    const flat = write('flat.yaml', resolvedYaml);
    expect(specHash(loadSpec(flat).spec)).toBe(specHash(spec));
  });

  it('applies a list of bases in order, each relative to the file that names it, and --set last', () => {
    write('base/more.yaml', 'extends: tiny.yaml\ntrain: { epochs: 7, batchSize: 16 }\n');
    write('base/last.yaml', 'train: { epochs: 9 }\n');
    const child = write('nested/child.yaml', 'extends: [../base/more.yaml, ../base/last.yaml]\nname: nested\n');
    const { spec } = loadSpec(child, [parseOverride('train.batchSize=8')]);
    expect([spec.name, spec.train.epochs, spec.train.batchSize]).toEqual(['nested', 9, 8]);
  });

  it('reports a problem of the base at the base\'s line, included from the spec\'s line', () => {
    write('base/bad.yaml', TINY.replace(/units: \d+/, 'units: -4'));
    const child = write('uses-bad.yaml', '# a comment\nextends: base/bad.yaml\n');
    const line = TINY.replace(/units: \d+/, 'units: -4').split('\n').findIndex((l) => l.includes('units: -4')) + 1;
    expect(problemsOf(child)).toMatch(new RegExp(`model\\.layers\\[0\\]\\.dense\\.units \\(\\S*base/bad\\.yaml line ${line}, col \\d+; included from \\S*uses-bad\\.yaml line 2\\): expected an integer >= 1`));
  });

  it.each([
    ['a missing base', 'extends: nowhere.yaml\n', /extends \(line 1, col 10\): cannot read base spec '\S*nowhere\.yaml' \(\S+\): no such file/],
    ['a cycle', 'extends: cycle-b.yaml\n', /extends cycle: \S*cycle-a\.yaml -> \S*cycle-b\.yaml -> \S*cycle-a\.yaml/],
    ['a chain too deep', 'extends: deep-1.yaml\n', /bases extend bases more than 8 levels deep/],
    ['a number', 'extends: 3\n', /extends \(line 1, col 10\): expected a file name or a list of file names/],
    ['a base that is not a mapping', 'extends: list.yaml\n', /list\.yaml; included from \S+ line 1: a base spec must be a YAML mapping/],
  ])('refuses %s with a located message', (_what, text, want) => {
    write('cycle-b.yaml', 'extends: cycle-a.yaml\n');
    for (let i = 1; i <= 10; i++) write(`deep-${i}.yaml`, `extends: deep-${i + 1}.yaml\n`);
    write('deep-11.yaml', TINY);
    write('list.yaml', '- 1\n- 2\n');
    expect(problemsOf(write('cycle-a.yaml', text))).toMatch(want);
  });

  it('works for sweeps, and a run keeps the merged spec so reproduce needs no base', async () => {
    const sweepBase = readFileSync(join(FIXTURES, 'tiny-sweep.yaml'), 'utf8');
    write('base/sweep.yaml', sweepBase);
    const child = write('sweep-child.yaml', 'extends: base/sweep.yaml\nsweep: { parameters: { train.batchSize: [16, 32] } }\n');
    // sweep.parameters is a mapping: the child's parameter joins the base's (2 x 2 x 2 seeds).
    const plan = planSweep(child);
    expect(plan.trials).toHaveLength(8);
    expect(Object.keys(plan.trials[0]!.params).sort()).toEqual(['compile.optimizer.adam.learningRate', 'train.batchSize']);
    copyFileSync(join(dir, 'base/tiny.yaml'), join(dir, 'base/for-run.yaml'));
    const run = write('run-child.yaml', 'extends: base/for-run.yaml\nname: from-base\n');
    const r = await execa('node', [BIN, 'run', run, '--out', join(dir, 'runs')], { cwd: dir, reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    rmSync(join(dir, 'base/for-run.yaml'));
    const runDir = /run: (\S+) \(status/.exec(r.stdout)![1]!;
    const again = await execa('node', [BIN, 'reproduce', join(dir, runDir), '--verify', '--out', join(dir, 'runs')], { cwd: dir, reject: false });
    expect(again.exitCode, again.stderr).toBe(0);
  });
});
