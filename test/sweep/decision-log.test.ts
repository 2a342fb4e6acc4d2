import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunnerError } from '../../src/core/errors.js';
import { DecisionLog } from '../../src/sweep/decision-log.js';
import type { SchedulerConfig } from '../../src/sweep/scheduler.js';

const root = mkdtempSync(join(tmpdir(), 'runner-decisions-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const scheduler: SchedulerConfig = { kind: 'asha', min: 1, max: 9, eta: 3 };
const header = { id: 'tiny-asha-sweep-1', scheduler, trials: ['a', 'b'] };
let n = 0;
const fresh = () => {
  const dir = join(root, String(n++));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  return dir;
};

describe('DecisionLog', () => {
  it('appends decisions and reads them back in order', () => {
    const dir = fresh();
    const log = DecisionLog.open(dir, header);
    log.append({ type: 'start', trial: 'a', bracket: 0, rung: 0, epochs: 1 });
    log.append({ type: 'result', trial: 'a', bracket: 0, rung: 0, epochs: 1, status: 'stopped', value: 0.5, trained: 1 });
    expect(DecisionLog.open(dir, header).decisions).toEqual(log.decisions);
  });

  it('drops a last line a kill cut short, and appends after the whole ones', () => {
    const dir = fresh();
    DecisionLog.open(dir, header).append({ type: 'start', trial: 'a', bracket: 0, rung: 0, epochs: 1 });
    appendFileSync(join(dir, 'decisions.jsonl'), '{"type":"result","trial":"a","bra');
    const log = DecisionLog.open(dir, header);
    expect(log.decisions).toEqual([{ type: 'start', trial: 'a', bracket: 0, rung: 0, epochs: 1 }]);
    log.append({ type: 'start', trial: 'b', bracket: 0, rung: 0, epochs: 1 });
    expect(readFileSync(join(dir, 'decisions.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
    expect(DecisionLog.open(dir, header).decisions.map((d) => d.trial)).toEqual(['a', 'b']);
  });

  it('refuses a log of another plan and a damaged line in the middle, naming the file and line', () => {
    const dir = fresh();
    DecisionLog.open(dir, header).append({ type: 'start', trial: 'a', bracket: 0, rung: 0, epochs: 1 });
    expect(() => DecisionLog.open(dir, { ...header, scheduler: { ...scheduler, max: 27 } })).toThrow(/decisions\.jsonl line 1: it records sweep tiny-asha-sweep-1 with another scheduler/);
    const file = join(dir, 'decisions.jsonl');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"type":"start"', '"type":"jump"') + '{"type":"start","trial":"b","bracket":0,"rung":0,"epochs":1}\n');
    try {
      DecisionLog.open(dir, header);
      throw new Error('expected a refusal');
    } catch (err) {
      expect(err).toBeInstanceOf(RunnerError);
      expect((err as RunnerError).message).toMatch(/decisions\.jsonl line 2: not a decision/);
      expect((err as RunnerError).exitCode).toBe(2);
    }
  });
});
