import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunnerError } from '../../src/core/errors.js';
import { trialMeta } from '../../src/sweep/folder.js';

const dir = mkdtempSync(join(tmpdir(), 'runner-sweep-folder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sweep = { formatVersion: 1, id: 'tiny-sweep-1234', metric: { name: 'test.accuracy', goal: 'maximize' }, trials: [{ trial: 'abc123', params: { 'train.batchSize': 32 } }] };

describe('trialMeta (runner run --sweep-trial)', () => {
  it('records the trial from the sweep.json of --out', () => {
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify(sweep));
    expect(trialMeta(dir, 'abc123', 'abc123')).toEqual({ id: 'tiny-sweep-1234', trial: 'abc123', metric: 'test.accuracy', goal: 'maximize', params: { 'train.batchSize': 32 } });
  });

  it.each([
    { name: 'no sweep.json', file: undefined, hash: 'abc123', want: 'there is no sweep.json' },
    { name: 'a sweep.json that is not JSON', file: '{ trials', hash: 'abc123', want: 'is not valid JSON' },
    { name: 'a file that is no sweep', file: '{"trials": []}', hash: 'abc123', want: 'is not a sweep file' },
    { name: 'a trial the sweep does not list', file: JSON.stringify(sweep), hash: 'fff000', want: 'lists no trial fff000' },
  ])('refuses $name with exit 2', ({ file, hash, want }) => {
    const here = mkdtempSync(join(dir, 'case-'));
    if (file !== undefined) writeFileSync(join(here, 'sweep.json'), file);
    const attempt = () => trialMeta(here, hash, hash);
    expect(attempt).toThrow(RunnerError);
    expect(attempt).toThrow(want);
  });

  it('refuses a run whose spec is not the trial\'s (its hash differs)', () => {
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify(sweep));
    expect(() => trialMeta(dir, 'abc123', 'def456')).toThrow('not the trial');
  });
});
