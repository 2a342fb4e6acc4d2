import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { stringify } from 'yaml';
import { RunnerError } from '../../src/core/errors.js';
import { limitsFrom } from '../../src/core/limits.js';
import { idxExamples, pngExample } from '../../src/data/images/image-input.js';
import { parseIdx } from '../../src/data/images/idx.js';
import { readTable } from '../../src/data/tables/table.js';
import { compareRuns } from '../../src/results/compare.js';
import { formatComparison } from '../../src/results/compare-format.js';
import { evaluate, parseGate } from '../../src/results/gate.js';
import { listRuns } from '../../src/runs/listing.js';
import { readRun } from '../../src/runs/reader.js';
import { runValues } from '../../src/runs/values.js';
import { loadSpec } from '../../src/spec/load.js';
import { parseOverride } from '../../src/spec/overrides.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'runner-properties-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const limits = limitsFrom({});
let n = 0;
/** A fresh file (or folder) name for one generated case. */
const fresh = (name: string) => join(dir, `${n++}-${name}`);

/** Runs `f`; any error but a RunnerError (exit 2 or 1 with a message) fails the property. */
function onlyRunnerErrors(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    if (!(err instanceof RunnerError)) throw new Error(`not a RunnerError: ${(err as Error)?.stack ?? String(err)}`);
  }
}

/** JSON values of any shape, and text that is almost JSON. */
const jsonish = fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), fc.string(), fc.jsonValue().map((v) => JSON.stringify(v).slice(0, -1)));
const RUNS = { numRuns: 150 };

describe('properties: every reader of user input ends in a value or a RunnerError, never an internal error', () => {
  it('the spec loader, on any text and any --set', () => {
    const good = stringify({ data: { dataset: 'mnist' }, model: { layers: [{ dense: { units: 10, activation: 'softmax' } }] }, compile: { loss: 'sparseCategoricalCrossentropy', optimizer: { adam: {} } } });
    const texts = fc.oneof(fc.string(), fc.jsonValue().map((v) => stringify(v)), fc.jsonValue().map((v) => `${good}extra: ${JSON.stringify(v)}\n`), fc.constantFrom('a: &x [*x]', '!!js/function f', '[[[[', 'a: 1\n---\nb: 2', '{a: 1, a: 2}'));
    fc.assert(fc.property(texts, fc.array(fc.string(), { maxLength: 3 }), (text, sets) => {
      const file = fresh('spec.yaml');
      writeFileSync(file, text);
      onlyRunnerErrors(() => loadSpec(file, sets.map(parseOverride)));
    }), RUNS);
  });

  it('the --fail-if parser and evaluator, on any text', () => {
    const exprs = fc.oneof(fc.string(), fc.stringMatching(/^[-+*/()<>=! a-z.0-9,&|]{0,60}$/));
    fc.assert(fc.property(exprs, (src) => {
      onlyRunnerErrors(() => {
        const e = parseGate(src);
        try {
          evaluate(e, () => 1);
        } catch (err) {
          if ((err as Error).name !== 'MissingValue') throw err;
        }
      });
    }), { numRuns: 400 });
  });

  it('the CSV and JSON table reader, on any text', () => {
    const texts = fc.oneof(fc.string(), jsonish, fc.array(fc.array(fc.oneof(fc.string(), fc.double().map(String)), { maxLength: 4 }), { maxLength: 5 }).map((rows) => rows.map((r) => r.join(',')).join('\n')));
    fc.assert(fc.property(texts, fc.constantFrom('csv', 'json'), (text, format) => {
      const file = fresh(`table.${format}`);
      writeFileSync(file, text);
      onlyRunnerErrors(() => readTable(file, format as 'csv' | 'json', 'data.path', limits));
    }), RUNS);
  });

  it('the run-folder readers (ls, compare, run values), on any run.json, metrics.jsonl and summary.json', () => {
    const base = JSON.parse(JSON.stringify({ formatVersion: 1, id: 'x', name: 'x', status: 'completed', pid: 1, startedAt: '2026-11-28T00:00:00Z', seed: 1, backend: { used: 'wasm' }, spec: { overrides: [] }, stages: [] }));
    const records = fc.oneof(jsonish, fc.dictionary(fc.constantFrom('status', 'data', 'backend', 'versions', 'durationMs', 'spec', 'sweep', 'host', 'pid', 'startedAt', 'id', 'name'), fc.jsonValue()).map((extra) => JSON.stringify({ ...base, ...extra })));
    fc.assert(fc.property(records, fc.array(jsonish, { maxLength: 3 }), fc.option(jsonish), (record, lines, summary) => {
      const root = fresh('runs');
      const run = join(root, 'r');
      mkdirSync(run, { recursive: true });
      writeFileSync(join(run, 'run.json'), record);
      writeFileSync(join(run, 'metrics.jsonl'), lines.join('\n'));
      if (summary !== null) writeFileSync(join(run, 'summary.json'), summary);
      onlyRunnerErrors(() => listRuns(root));
      onlyRunnerErrors(() => {
        const view = readRun(run);
        runValues(view);
        formatComparison(compareRuns([view, view], 0, { gates: ['test.accuracy < 0.5'] }), 'table');
      });
    }), RUNS);
  });

  it('the checkpoint reader, on any state.json', () => {
    fc.assert(fc.property(jsonish, (state) => {
      const folder = fresh('checkpoint');
      mkdirSync(folder);
      writeFileSync(join(folder, 'state.json'), state);
      onlyRunnerErrors(() => loadCheckpoint(folder));
    }), RUNS);
  });

  it('the IDX and PNG readers, on any bytes', () => {
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 64 }).map((b) => Uint8Array.from([0, 0, 8, 3, ...b])), fc.uint8Array({ maxLength: 64 }).map((b) => Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...b])));
    fc.assert(fc.property(bytes, (b) => {
      const file = fresh('input');
      writeFileSync(file, b);
      onlyRunnerErrors(() => parseIdx(b, file));
      onlyRunnerErrors(() => idxExamples(file, [28, 28], limits));
      onlyRunnerErrors(() => pngExample(file, [28, 28], false, limits));
    }), RUNS);
  });
});
