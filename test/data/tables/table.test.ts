import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTable } from '../../../src/data/tables/table.js';
import { formatError, RunnerError } from '../../../src/core/errors.js';
import { limitsFrom } from '../../../src/core/limits.js';
import { planRun } from '../../../src/pipeline/plan.js';

const dir = mkdtempSync(join(tmpdir(), 'runner-table-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GOOD_CSV = 'size,weight,colour,label\n1.5,10,red,cat\n2,12,blue,dog\n"2.5",,red,dog\n3,14,green,cat\n';

/** A spec for a table in the temp folder; `data` and `rest` lines replace the defaults. */
function spec(name: string, { data = '', preprocess = "  - oneHot: { columns: [colour] }\n  - oneHot: {}", units = 2, loss = 'categoricalCrossentropy', metrics = '[accuracy]', file = 'animals.csv', format = 'csv' } = {}): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, [
    'data:',
    `  format: ${format}`,
    `  path: ${file}`,
    '  target: label',
    '  missing: fill',
    data,
    'preprocess:',
    preprocess,
    'model:',
    '  layers:',
    `    - dense: { units: ${units}, activation: softmax }`,
    'compile:',
    `  loss: ${loss}`,
    '  optimizer: { adam: {} }',
    `  metrics: ${metrics}`,
  ].filter((l) => l !== '').join('\n'));
  return path;
}

writeFileSync(join(dir, 'animals.csv'), GOOD_CSV);
writeFileSync(join(dir, 'ragged.csv'), 'size,weight,colour,label\n1,2,red,cat\n3,4,blue\n5,6,red,dog,extra\n');
writeFileSync(join(dir, 'text.csv'), 'size,weight,colour,label\n1,2,red,cat\n3,heavy,blue,dog\n5,6,red,dog\n7,8,red,cat\n');
writeFileSync(join(dir, 'huge.csv'), 'size,weight,colour,label\n1,2,red,cat\n3,1e400,blue,dog\n5,6,red,dog\n-1e39,8,red,cat\n');
writeFileSync(join(dir, 'wide.csv'), `${Array.from({ length: 50_000 }, (_, i) => `c${i}`).join(',')}\n${new Array(50_000).fill('1').join(',')}\n`);
writeFileSync(join(dir, 'oneclass.csv'), 'size,weight,colour,label\n1,2,red,cat\n3,4,blue,cat\n');
writeFileSync(join(dir, 'noclass.csv'), 'size,weight,colour,label\n1,2,red,\n3,4,blue,NA\n');
writeFileSync(join(dir, 'shadow'), 'root:$y$j9T$SECRETSECRETSECRETSECRET:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n');
writeFileSync(join(dir, 'quoted.csv'), '\ufeffname,"note, with comma",label\r\n"a ""b""","x\ny",cat\r\n');
writeFileSync(join(dir, 'animals.json'), JSON.stringify([{ size: 1, colour: 'red', label: 'cat' }, { size: 2, colour: null, label: 'dog' }, { size: 3, label: 'dog' }]));
writeFileSync(join(dir, 'nested.json'), JSON.stringify([{ size: [1, 2], label: 'cat' }]));
writeFileSync(join(dir, 'object.json'), JSON.stringify({ rows: [] }));

/** The message and details a person sees, as one string, and the exit code. */
function failure(fn: () => unknown): { code: number; text: string } {
  try {
    fn();
  } catch (err) {
    return { code: err instanceof RunnerError ? err.exitCode : 1, text: formatError(err) };
  }
  throw new Error('expected an error');
}

describe('readTable', () => {
  it('reads quoted CSV fields, a BOM and CRLF line ends', () => {
    const t = readTable(join(dir, 'quoted.csv'), 'csv', 'data.path', limitsFrom());
    expect(t.columns).toEqual(['name', 'note, with comma', 'label']);
    expect(t.rows).toEqual([['a "b"', 'x\ny', 'cat']]);
  });

  it('reads JSON records, a key a record lacks being a missing value', () => {
    const t = readTable(join(dir, 'animals.json'), 'json', 'data.path', limitsFrom());
    expect(t.columns).toEqual(['size', 'colour', 'label']);
    expect(t.rows[2]).toEqual([3, null, 'dog']);
  });
});

const cases = [
  { name: 'ragged CSV rows, by line', file: spec('ragged', { file: 'ragged.csv' }), want: ['ragged.csv has 2 ragged rows', 'line 3: 3 fields, expected 4', 'line 4: 5 fields, expected 4', 'data.path'] },
  { name: 'an unknown target, with did-you-mean at the spec line', file: spec('target', { data: '  features: [size]' }), edit: (s: string) => s.replace('target: label', 'target: lable'), want: ["data.target (line 4, col 11): ", "no column 'lable'; did you mean 'label'?"] },
  { name: 'an unknown feature', file: spec('feature', { data: '  features: [size, wieght]' }), want: ["data.features[1] (line 6", "no column 'wieght'; did you mean 'weight'?"] },
  { name: 'a text value in a numeric column, by line and column', file: spec('text', { file: 'text.csv' }), want: ["text.csv line 3, column 'weight': 'heavy' is not a number"] },
  { name: 'numbers beyond float range, by line and column, even with missing: fill', file: spec('huge', { file: 'huge.csv' }), want: ["huge.csv line 3, column 'weight': '1e400' is beyond the range of a 32-bit float", "huge.csv line 5, column 'size': '-1e39' is beyond the range"] },
  { name: 'an unknown target among 50,000 columns, in a message of a few lines', file: spec('wide', { file: 'wide.csv' }), edit: (s: string) => s.replace('target: label', 'target: lable'), want: ["has no column 'lable'", 'columns: c0, c1,', 'c19 and 49980 more)'] },
  { name: 'a target with one class', file: spec('oneclass', { file: 'oneclass.csv' }), edit: (s: string) => s.replace('missing: fill', 'missing: drop'), want: ["data.target (line", "has only one value, 'cat': a classifier needs at least two classes"] },
  { name: 'a target with every value missing', file: spec('noclass', { file: 'noclass.csv' }), edit: (s: string) => s.replace('missing: fill', 'missing: drop'), want: ['has no values at all (every one is missing): a classifier needs at least two classes'] },
  { name: 'a file that is no table, quoted only by a short prefix', file: spec('shadow', { file: 'shadow' }), want: ["columns: root:$y$j9T$SECRETSECRET..."], absent: ['SECRETSECRETSECRET:19000'] },
  { name: 'a folder as the table', file: spec('folder', { file: '.' }), want: ["data.path (", "table file", "is a folder; expected a file"] },
  { name: 'a device as the table (never read)', file: spec('device', { file: '/dev/zero' }), want: ["table file '/dev/zero' is not a regular file"] },
  { name: 'a text column that is not one-hot encoded', file: spec('colour', { preprocess: '  - oneHot: {}' }), want: ["column 'colour' holds text ('red' at line 2)", 'oneHot: { columns'] },
  { name: 'missing values when data.missing is error', file: spec('missing'), edit: (s: string) => s.replace('missing: fill', 'missing: error'), want: ["column 'weight' (a feature) has 1 missing value (first at line 4); set data.missing to drop or fill"] },
  { name: 'oneHot columns that are not features', file: spec('onehot', { preprocess: '  - oneHot: { columns: [color] }\n  - oneHot: {}' }), want: ["preprocess[0].oneHot.columns[0]", "'color' is not a feature column; did you mean 'colour'?"] },
  { name: 'output units that do not match the classes', file: spec('units', { units: 3 }), want: ['model.layers[0].dense.units', "has 3 units but 'label' in", 'has 2 classes; set units: 2'] },
  { name: 'a regression with a classification loss and metric', file: spec('regression', { data: '  task: regression\n  target: size', preprocess: '  - oneHot: { columns: [colour, label] }', units: 1 }), edit: (s: string) => s.replace('  target: label\n', ''), want: ['compile.loss (line', 'categoricalCrossentropy scores classes', 'compile.metrics[0]', 'accuracy scores classes'] },
  { name: 'a conv layer on a table', file: spec('conv'), edit: (s: string) => s.replace('    - dense: {', '    - conv2d: { filters: 2, kernelSize: 3 }\n    - dense: {'), want: ['model.layers[0].conv2d', 'a table row is a vector'] },
  { name: 'flatten on a table', file: spec('flatten', { preprocess: '  - flatten: {}\n  - oneHot: { columns: [colour] }\n  - oneHot: {}' }), want: ['preprocess[0].flatten', 'already a vector'] },
  { name: 'a missing table file, at the spec key', file: spec('nofile', { file: 'nope.csv' }), want: ["data.path (", "line 3): table file", "nope.csv' does not exist"] },
  { name: 'JSON values that are not cells', file: spec('nested', { file: 'nested.json', format: 'json' }), want: ["nested.json record 1, column 'size': expected a number, text, true/false or null, got an array"] },
  { name: 'JSON that is not an array of rows', file: spec('object', { file: 'object.json', format: 'json' }), want: ['object.json: expected a JSON array of objects (one per row), got an object'] },
  { name: 'image keys on a table', file: spec('imagekeys'), edit: (s: string) => s.replace('  format: csv', '  format: csv\n  dataset: mnist'), want: ["data.dataset (line 3", "unknown key 'dataset'"] },
];

describe('bad tables and table specs', () => {
  it.each(cases)('reports $name with exit 2', ({ file, edit, want, absent }) => {
    if (edit) writeFileSync(file, edit(readFileSync(file, 'utf8')));
    const { code, text } = failure(() => planRun(file));
    expect(code).toBe(2);
    for (const w of want) expect(text).toContain(w);
    for (const a of absent ?? []) expect(text).not.toContain(a);
    expect(text).not.toMatch(/\n\s+at /);
    expect(text.length).toBeLessThan(4000);
  });

  it('accepts the good table, with its features defaulting to every column but the target', () => {
    expect(() => planRun(spec('good'))).not.toThrow();
  });
});
