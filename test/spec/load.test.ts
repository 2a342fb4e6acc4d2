import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunnerError, SpecError } from '../../src/core/errors.js';
import { loadSpec } from '../../src/spec/load.js';
import { parseOverride } from '../../src/spec/overrides.js';

const dir = mkdtempSync(join(tmpdir(), 'runner-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GOOD = readFileSync(new URL('../fixtures/tiny-mlp.yaml', import.meta.url), 'utf8');

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Loads a spec and returns the error's rendered lines (message + details). */
function problemsOf(file: string, set: string[] = []): string[] {
  try {
    loadSpec(file, set.map(parseOverride));
  } catch (err) {
    expect(err).toBeInstanceOf(RunnerError);
    expect((err as RunnerError).exitCode).toBe(2);
    return [(err as RunnerError).message, ...(err as RunnerError).details];
  }
  throw new Error('expected the spec to be rejected');
}

describe('loadSpec', () => {
  it('fills defaults and keeps the given values', () => {
    const { spec, resolvedYaml } = loadSpec(write('good.yaml', GOOD));
    expect(spec.train).toEqual({ epochs: 2, batchSize: 32, shuffle: true, checkpoint: 1 });
    expect(spec.compile.optimizer).toEqual({ adam: { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } });
    expect(spec.evaluate.metrics).toEqual(['loss', 'accuracy', 'confusionMatrix', 'perClass']);
    expect(spec.model.layers[0]).toEqual({ dense: { units: 16, activation: 'relu', useBias: true, kernelInitializer: 'glorotUniform', biasInitializer: 'zeros' } });
    expect(resolvedYaml).toContain('beta2: 0.999');
  });

  it('takes every tfjs optimizer with its defaults', () => {
    const file = write('opt.yaml', GOOD);
    const of = (o: string) => loadSpec(file, [parseOverride(`compile.optimizer=${o}`)]).spec.compile.optimizer;
    expect(of('{adamax: {}}')).toEqual({ adamax: { learningRate: 0.002, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, decay: 0 } });
    expect(of('{adagrad: {}}')).toEqual({ adagrad: { learningRate: 0.01, initialAccumulatorValue: 0.1 } });
    expect(of('{adadelta: {rho: 0.9}}')).toEqual({ adadelta: { learningRate: 0.001, rho: 0.9, epsilon: 1e-7 } });
    expect(problemsOf(file, ['compile.optimizer={adamw: {}}']).join('\n')).toMatch(/unknown optimizer 'adamw'; did you mean 'adam'\?/);
  });

  it('names the experiment after the file when the spec has no name', () => {
    const { spec } = loadSpec(write('my exp.yaml', GOOD.replace('name: tiny-mlp\n', '')));
    expect(spec.name).toBe('my-exp');
  });

  it('applies --set overrides, parsed as YAML scalars, and validates them', () => {
    const file = write('set.yaml', GOOD);
    const { spec } = loadSpec(file, ['train.epochs=5', 'model.layers.0.dense.units=64', 'data.validationSplit=0'].map(parseOverride));
    expect(spec.train.epochs).toBe(5);
    expect((spec.model.layers[0] as { dense: { units: number } }).dense.units).toBe(64);
  });

  const bad = (name: string, text: string, fragments: string[], set: string[] = [], absent: string[] = []) => ({ name, text, fragments, set, absent });
  const cases = [
    bad('malformed YAML', 'data: [mnist\nmodel: 1\n', ['is invalid', 'line ']),
    bad('duplicate key', GOOD.replace('seed: 7', 'seed: 7\nseed: 8'), ['Map keys must be unique', 'line 5']),
    bad('wrong type', GOOD.replace('epochs: 2', 'epochs: two'), ['train.epochs (line 26, col 11): expected an integer, got \'two\'']),
    bad('negative number', GOOD.replace('batchSize: 32', 'batchSize: -4'), ['train.batchSize (line 27, col 14): expected an integer >= 1, got -4']),
    bad('a batch too large to allocate', GOOD.replace('batchSize: 32', 'batchSize: 100000000'), ['train.batchSize (line 27, col 14): expected an integer <= 1048576, got 100000000']),
    bad('a layer too wide to allocate', GOOD.replace('units: 16', 'units: 1e10'), ['model.layers[0].dense.units (line 17', 'expected an integer <= 65536']),
    bad('more layers than runner builds', GOOD.replace('    - dense: { units: 16, activation: relu }', '    - dense: { units: 16, activation: relu }\n'.repeat(1001).trimEnd()), ['model.layers (line 17', '1000']),
    bad('a tag in --set, as in the file', GOOD, ["--set 'description=!!js/function \"x\"': YAML tag 'tag:yaml.org,2002:js/function' is not allowed: a spec is plain data"], ['description=!!js/function "x"']),
    bad('a prototype key in --set', GOOD, ["--set '__proto__.x=1': '__proto__' is not a key a spec can have"], ['__proto__.x=1']),
    bad('two YAML documents', GOOD + '---\nseed: 1\n', ['a second YAML document starts here (---): a spec is a single document']),
    bad('nesting past the limit', GOOD.replace('seed: 7', `seed: 7\ndescription: ${'['.repeat(70)}${']'.repeat(70)}`), ['nests 65 or more levels deep here; a spec nests at most 64']),
    bad('nesting that would overflow the stack', GOOD.replace('seed: 7', `seed: 7\ndescription: ${'['.repeat(20000)}${']'.repeat(20000)}`), ['nests'], [], ['Maximum call stack']),
    bad('a spec over 1 MiB', `${GOOD}# ${'x'.repeat(1100 * 1024)}\n`, ['is 1.1 MiB; a spec is at most 1 MiB']),
    bad('unknown layer', GOOD.replace('- dropout: { rate: 0.2 }', '- conv3d: { filters: 2 }'), ["model.layers[1].conv3d (line 18, col 7): unknown layer 'conv3d'", 'expected one of: dense, dropout']),
    bad('misspelled key', GOOD.replace('epochs: 2', 'epoch: 2'), ["train.epoch (line 26, col 3): unknown key 'epoch'; did you mean 'epochs'?"]),
    bad('misspelled enum value', GOOD.replace('activation: relu', 'activation: relux'), ["model.layers[0].dense.activation (line 17, col 39): unknown value 'relux'; did you mean 'relu'?"]),
    bad('missing required key', GOOD.replace('    - dense: { units: 16, activation: relu }', '    - dense: { activation: relu }'), ["model.layers[0].dense (line 17, col 14): missing required key 'units'"]),
    bad('two optimizers', GOOD.replace('adam: { learningRate: 0.01 }', 'adam: {}\n    sgd: {}'), ['compile.optimizer (line 23, col 5): expected exactly one optimizer', 'got 2: adam, sgd', '(one of: sgd, adam, rmsprop, adamax, adagrad, adadelta)']),
    bad('a value of neither form', GOOD.replace('epochs: 2', 'epochs: 2\n  checkpoint: bset'), ["train.checkpoint (line 27, col 15): expected an integer, or one of: best, none, got 'bset'; did you mean 'best'?"]),
    bad('a table key on an image dataset, reported once', GOOD.replace('validationSplit: 0.2', 'validationSplit: 0.2\n  target: label'), ["data.target (line 9, col 3): unknown key 'target'"], [], ['must match']),
    bad('every problem at once', GOOD.replace('epochs: 2', 'epochs: 0').replace('seed: 7', 'seed: -1'), ['(2 problems)', 'seed (line 4', 'train.epochs (line 26']),
    bad('a YAML tag', GOOD.replace('seed: 7', 'seed: !!js/function "x"'), ["YAML tag 'tag:yaml.org,2002:js/function' is not allowed", 'line 4']),
    bad('an alias bomb', `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n`, ['cannot expand the YAML', 'alias']),
    bad('a list at the top level', '- a\n- b\n', ['expected a mapping at the top level, got a list']),
    bad('categorical loss without one-hot labels', GOOD.replace('  - oneHot: { numClasses: 10 }\n', ''), ['compile.loss (line 20, col 9)', "add '- oneHot: {}'"]),
    bad('early stopping on missing validation data', GOOD.replace('validationSplit: 0.2', 'validationSplit: 0').replace('batchSize: 32', 'batchSize: 32\n  earlyStopping: { patience: 2 }'), ["train.earlyStopping.monitor", 'no validation data']),
    bad('output units that do not match the classes', GOOD.replace('units: 10, activation: softmax', 'units: 9, activation: softmax'), ['model.layers[2].dense.units (line 19', 'data has 10 classes']),
    bad('a conv layer on flattened images', GOOD.replace('    - dense: { units: 16, activation: relu }', '    - conv2d: { filters: 4, kernelSize: 3 }'), ["model.layers[0].conv2d (line 17, col 15): conv2d needs images of shape [height, width, channels], but gets [784]; preprocess[1] flattens the images: replace '- flatten: {}' with '- reshape: { targetShape: [28, 28, 1] }'"]),
    bad('a conv layer on images without channels', GOOD.replace('  - flatten: {}\n', '').replace('    - dense: { units: 16, activation: relu }', '    - maxPooling2d: {}')
      .replace('- dropout: { rate: 0.2 }', '- flatten: {}'), ["model.layers[0].maxPooling2d", "gets [28, 28]; add '- reshape: { targetShape: [28, 28, 1] }' to preprocess"]),
    bad('early stopping on a metric that is not compiled', GOOD.replace('batchSize: 32', 'batchSize: 32\n  earlyStopping: { monitor: val_recall }'), ["train.earlyStopping.monitor", "monitors 'val_recall' but compile.metrics does not include recall"]),
    bad('centered RMSProp', GOOD.replace('adam: { learningRate: 0.01 }', 'rmsprop: { centered: true }'), ['compile.optimizer.rmsprop.centered (line 23, col 26)', 'centered RMSProp is not supported']),
    bad('--set with a bad value', GOOD, ["train.epochs (--set train.epochs=0): expected an integer >= 1, got 0"], ['train.epochs=0']),
    bad('--set of an unknown key', GOOD, ["train.epoch (--set train.epoch=3): unknown key 'epoch'; did you mean 'epochs'?"], ['train.epoch=3']),
    bad('--set past the end of a list', GOOD, ['model.layers (--set model.layers.7.dense.units=3): has 3 items; index 7 is out of range'], ['model.layers.7.dense.units=3']),
  ];

  it.each(cases)('rejects $name with its key path and line', ({ name, text, fragments, set, absent }) => {
    const lines = problemsOf(write(`${name.replace(/\W+/g, '-')}.yaml`, text), set);
    const all = lines.join('\n');
    for (const f of fragments) expect(all).toContain(f);
    for (const f of absent) expect(all).not.toContain(f);
    expect(all).not.toContain('[object Object]');
  });

  it('rejects a missing file, a folder and an empty file with a clear message', () => {
    expect(problemsOf(join(dir, 'nope.yaml'))[0]).toBe(`cannot read spec '${join(dir, 'nope.yaml')}': no such file`);
    mkdirSync(join(dir, 'folder.yaml'));
    expect(problemsOf(join(dir, 'folder.yaml'))[0]).toContain('is a directory: expected a YAML spec file');
    expect(problemsOf(write('empty.yaml', '# only a comment\n\n'))[0]).toContain('is empty');
  });

  it('reports problems as a SpecError that lists them in line order', () => {
    try {
      loadSpec(write('order.yaml', GOOD.replace('batchSize: 32', 'batchSize: 0').replace('seed: 7', 'seed: x')));
      expect.unreachable();
    } catch (err) {
      const problems = (err as SpecError).problems;
      expect(problems.map((p) => p.path)).toEqual(['seed', 'train.batchSize']);
    }
  });
});

describe('parseOverride', () => {
  it.each([
    { text: 'train.epochs=1', path: ['train', 'epochs'], value: 1 },
    { text: 'model.layers.0.dense.units=64', path: ['model', 'layers', 0, 'dense', 'units'], value: 64 },
    { text: 'train.shuffle=false', path: ['train', 'shuffle'], value: false },
    { text: 'name=a=b', path: ['name'], value: 'a=b' },
  ])('parses $text', ({ text, path, value }) => {
    expect(parseOverride(text)).toMatchObject({ path, value });
  });

  it.each(['train.epochs', '=3', 'train..epochs=3'])('rejects %s', (text) => {
    expect(() => parseOverride(text)).toThrow(/--set/);
  });
});
