import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, readJson, readJsonl, runDirOf } from '../helpers.js';

const BIN = new URL('../../bin/runner.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'runner-text-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const runner = (args: string[], cwd = work) => execa('node', [BIN, ...args], { cwd, reject: false, env: { RUNNER_OFFLINE: '1' } });
const spec = readFileSync(join(FIXTURES, 'tiny-text.yaml'), 'utf8');

let dir: string;
let again: string;
beforeAll(async () => {
  copyFileSync(join(FIXTURES, 'tiny-text.yaml'), join(work, 'text.yaml'));
  const [a, b] = await Promise.all([runner(['run', 'text.yaml', '--out', 'runs-a']), runner(['run', 'text.yaml', '--out', 'runs-b'])]);
  expect(a.exitCode, a.stderr).toBe(0);
  expect(b.exitCode, b.stderr).toBe(0);
  [dir, again] = [runDirOf(a.stdout, work), runDirOf(b.stdout, work)];
});

describe('a text run (SpamAssassin, embedding and conv1d on wasm)', () => {
  it('trains, evaluates and records the corpus and its splits', () => {
    const metrics = readJsonl(join(dir, 'metrics.jsonl'));
    expect(metrics).toHaveLength(4);
    const summary = readJson(join(dir, 'summary.json')) as { accuracy: number; examples: number; groups: Record<string, { examples: number; accuracy: number }> };
    // Spam is about a third of the corpus: a model that learned nothing would score about 0.67.
    expect(summary.accuracy).toBeGreaterThan(0.8);
    // Accuracy per corpus group (hard-ham-1 is the hard slice), over the same 100 test messages.
    const groups = Object.entries(summary.groups);
    expect(groups.map(([g]) => g).every((g) => ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'].includes(g))).toBe(true);
    expect(groups.reduce((n, [, g]) => n + g.examples, 0)).toBe(100);
    const right = groups.reduce((n, [, g]) => n + g.accuracy * g.examples, 0);
    expect(right / 100).toBeCloseTo(summary.accuracy, 6);
    const run = readJson(join(dir, 'run.json')) as { data: { dataset: string; counts: Record<string, number>; available: Record<string, number> } };
    expect(run.data.dataset).toBe('spam-assassin');
    expect(run.data.counts).toEqual({ train: 480, validation: 120, test: 100 });
    expect(run.data.available['messages']).toBe(6046);
  });

  it('saves the vocabulary (one token a line) as preprocess.json has it, fitted on the training split', () => {
    const pre = readJson(join(dir, 'preprocess.json')) as { text: { vocabulary: string[]; sequence: { length: number } }; inputShape: number[] };
    const lines = readFileSync(join(dir, 'vocabulary.txt'), 'utf8').trimEnd().split('\n');
    expect(lines).toEqual(pre.text.vocabulary);
    expect(lines.length).toBeGreaterThan(100);
    expect(lines.length).toBeLessThanOrEqual(2000);
    expect(pre.inputShape).toEqual([64]);
  });

  it('takes load and normalize from the stage cache the next time, vocabulary and groups included', async () => {
    const r = await execa('node', [BIN, 'run', 'text.yaml', '--out', 'runs-c'], { cwd: work, reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    const third = runDirOf(r.stdout, work);
    expect((readJson(join(third, 'run.json')) as { cached: string[] }).cached).toEqual(['load', 'normalize']);
    expect(readFileSync(join(third, 'vocabulary.txt'), 'utf8')).toBe(readFileSync(join(dir, 'vocabulary.txt'), 'utf8'));
    expect((readJson(join(third, 'summary.json')) as { groups: unknown }).groups).toEqual((readJson(join(dir, 'summary.json')) as { groups: unknown }).groups);
  });

  it('is bitwise the same run twice', () => {
    expect(readFileSync(join(again, 'model', 'weights.bin')).equals(readFileSync(join(dir, 'model', 'weights.bin')))).toBe(true);
    expect(readFileSync(join(again, 'vocabulary.txt'), 'utf8')).toBe(readFileSync(join(dir, 'vocabulary.txt'), 'utf8'));
  });

  it('predicts ham or spam for --text documents and text files', async () => {
    writeFileSync(join(work, 'mail.txt'), 'Hi Bob, the meeting notes from Tuesday are attached. See you at the review.');
    const r = await runner(['predict', dir, 'mail.txt', '--text', 'CLICK HERE to claim your FREE prize!!! Limited offer, act now', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const ps = JSON.parse(r.stdout) as { input: string; top: { class: string; probability: number }[] }[];
    expect(ps.map((p) => p.input)).toEqual(['mail.txt', expect.stringMatching(/^--text 1 /)]);
    for (const p of ps) {
      expect(p.top.map((t) => t.class).sort()).toEqual(['ham', 'spam']);
      expect(p.top[0]!.probability + p.top[1]!.probability).toBeCloseTo(1, 5);
    }
  });

  it('refuses a predict with nothing to read, and a non-UTF-8 file, with exit 2', async () => {
    writeFileSync(join(work, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff]));
    const none = await runner(['predict', dir]);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('nothing to predict: give text files or --text');
    const bad = await runner(['predict', dir, 'latin1.txt']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('latin1.txt is not UTF-8 text');
  });
});

describe('bad text specs', () => {
  const cases = [
    { name: 'a conv1d on bag-of-words vectors', edit: (t: string) => t.replace('- sequence: { length: 64 }', '- bagOfWords: {}').replace('    - embedding: { outputDim: 8 }\n', ''), fragments: ['model.layers[0].conv1d (line 16', 'conv1d needs [steps, channels] inputs'] },
    { name: 'an embedding too small for the vocabulary', edit: (t: string) => t.replace('embedding: { outputDim: 8 }', 'embedding: { outputDim: 8, inputDim: 500 }'), fragments: ['model.layers[0].embedding.inputDim (line 16', 'inputDim 500 cannot hold', 'lower vocabulary.maxTokens to 498'] },
    { name: 'a sequence length of 0', edit: (t: string) => t.replace('length: 64', 'length: 0'), fragments: ['preprocess[2].sequence.length (line 13', 'expected an integer >= 1, got 0'] },
    { name: 'no vectorizing step', edit: (t: string) => t.replace('  - sequence: { length: 64 }\n', ''), fragments: ['text needs the preprocess steps tokenize, vocabulary, and sequence'] },
    { name: 'a model that ends on [steps, units]', edit: (t: string) => t.replace('    - globalMaxPooling1d: {}\n', ''), fragments: ['the model ends on [steps, units] per example'] },
    { name: 'a conv1d after a GRU that outputs its last step only', edit: (t: string) => t.replace('    - conv1d:', '    - gru: { units: 4 }\n    - conv1d:'), fragments: ['model.layers[2].conv1d (line 18', 'or a recurrent layer with returnSequences: true'] },
    { name: 'a tokenize pattern that is not a regular expression', edit: (t: string) => t.replace('tokenize: { split: word }', "tokenize: { pattern: '[a-z' }"), fragments: ['preprocess[0].tokenize.pattern (line 11', 'not a regular expression'] },
    { name: 'text steps on images', edit: (t: string) => t.replace(/data:\n(  .*\n)+/, 'data:\n  dataset: mnist\n'), fragments: ['tokenize prepares text; this spec reads images'] },
  ];
  it.each(cases)('exits 2 on $name, at the line, with no run folder', async ({ edit, fragments }) => {
    const cwd = mkdtempSync(join(work, 'bad-'));
    writeFileSync(join(cwd, 'bad.yaml'), edit(spec));
    const r = await runner(['run', 'bad.yaml'], cwd);
    expect(r.exitCode).toBe(2);
    for (const f of fragments) expect(r.stderr).toContain(f);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(join(cwd, 'runs')) ? readdirSync(join(cwd, 'runs')) : []).toEqual([]);
  });
});

describe('text in a file (JSON Lines and CSV)', () => {
  // Reviews whose label follows their words: 'good' from one word list, 'bad' from another, with shared filler.
  const lists = { good: ['great', 'lovely', 'superb', 'enjoyed', 'excellent'], bad: ['awful', 'boring', 'dull', 'hated', 'terrible'] };
  const filler = ['the', 'film', 'was', 'and', 'plot', 'actors', 'it', 'really'];
  let s = 11;
  const next = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const pickFrom = (xs: readonly string[]) => xs[Math.floor(next() * xs.length)]!;
  const rows = Array.from({ length: 400 }, (_, i) => {
    const label = i % 2 ? 'good' : 'bad';
    const words = Array.from({ length: 8 }, (_, k) => (k % 3 === 0 ? pickFrom(lists[label]) : pickFrom(filler)));
    return { review: words.join(' '), title: `Review ${i}`, label };
  });
  const fileSpec = (data: string) => `name: reviews
seed: 1
backend: wasm
data:
${data}
preprocess:
  - tokenize: {}
  - vocabulary: { maxTokens: 100 }
  - bagOfWords: { mode: binary }
model:
  layers:
    - dense: { units: 8, activation: relu }
    - dense: { units: 2, activation: softmax }
compile:
  loss: sparseCategoricalCrossentropy
  optimizer:
    adam: { learningRate: 0.05 }
  metrics: [accuracy]
train:
  epochs: 5
  batchSize: 32
`;
  const jsonl = '  format: jsonl\n  path: reviews.jsonl\n  text: [title, review]\n  target: label\n  validationSplit: 0.1\n';

  it('trains on a JSON Lines file, and predicts the rows of a CSV with the same columns', async () => {
    const cwd = mkdtempSync(join(work, 'files-'));
    writeFileSync(join(cwd, 'reviews.jsonl'), `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    writeFileSync(join(cwd, 'reviews.yaml'), fileSpec(jsonl));
    const r = await runner(['run', 'reviews.yaml'], cwd);
    expect(r.exitCode, r.stderr).toBe(0);
    const run = runDirOf(r.stdout, cwd);
    expect((readJson(join(run, 'summary.json')) as { accuracy: number }).accuracy).toBeGreaterThan(0.9);
    expect((readJson(join(run, 'run.json')) as { data: { counts: Record<string, number> } }).data.counts).toEqual({ train: 288, validation: 32, test: 80 });
    expect((readJson(join(run, 'preprocess.json')) as { classNames: string[]; text: { columns: string[] } })).toMatchObject({ classNames: ['bad', 'good'], text: { columns: ['title', 'review'] } });
    writeFileSync(join(cwd, 'new.csv'), 'title,review,label\nA,"superb and lovely, really enjoyed it",good\nB,"dull, boring, terrible plot",bad\n');
    const p = await runner(['predict', run, 'new.csv', '--json'], cwd);
    expect(p.exitCode, p.stderr).toBe(0);
    const ps = JSON.parse(p.stdout) as { input: string; actual?: string; top: { class: string }[] }[];
    expect(ps.map((x) => [x.input, x.actual, x.top[0]!.class])).toEqual([['new.csv line 2', 'good', 'good'], ['new.csv line 3', 'bad', 'bad']]);
  });

  const bad = [
    { name: 'a text column holding numbers', file: 'reviews.jsonl', body: () => rows.map((r, i) => JSON.stringify(i === 5 ? { ...r, review: 42 } : r)).join('\n'), data: jsonl, fragments: ["reviews.jsonl line 6, column 'review': 42 is a number, not text"] },
    { name: 'a misspelled text column', file: 'reviews.jsonl', body: () => rows.map((r) => JSON.stringify(r)).join('\n'), data: jsonl.replace('[title, review]', '[title, reveiw]'), fragments: ['data.text[1] (line 7', "has no column 'reveiw'; did you mean 'review'?"] },
    { name: 'a vocabulary that would be empty', file: 'reviews.jsonl', body: () => rows.map((r) => JSON.stringify(r)).join('\n'), data: jsonl, spec: (t: string) => t.replace('vocabulary: { maxTokens: 100 }', 'vocabulary: { maxTokens: 100, minCount: 100000 }'), fragments: ['preprocess[1].vocabulary.minCount (line 13', 'the vocabulary would be empty: no token of the 400 documents occurs 100000 times or more'] },
    { name: 'a CSV that is not UTF-8', file: 'reviews.csv', body: () => Buffer.concat([Buffer.from('review,label\nfine,good\n'), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from(',bad\n')]), data: '  format: csv\n  path: reviews.csv\n  text: review\n  target: label\n', fragments: ['reviews.csv line 3: bytes that are not UTF-8 text'] },
  ];
  it.each(bad)('exits 2 on $name, before any run folder', async ({ file, body, data, fragments, ...rest }) => {
    const cwd = mkdtempSync(join(work, 'bad-file-'));
    writeFileSync(join(cwd, file), body());
    const edit = ('spec' in rest && rest.spec) || ((t: string) => t);
    writeFileSync(join(cwd, 'reviews.yaml'), edit(fileSpec(data)));
    const r = await runner(['run', 'reviews.yaml'], cwd);
    expect(r.exitCode).toBe(2);
    for (const f of fragments) expect(r.stderr).toContain(f);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(join(cwd, 'runs'))).toBe(false);
  });
});
