import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobPlan } from '../../src/sweep/jobs.js';
import { writeFakeRun } from '../fixtures/runs.js';

const HASH = 'abc123abc123';
const job = (epochs: number) => ({ type: 'start' as const, trial: HASH, bracket: 0, rung: 0, epochs });

/** A sweep folder holding one run of trial HASH, with what the test gives it. */
function sweepWith(status: string, opts: { stoppedAt?: number; checkpoint?: 'whole' | 'cut short' } = {}): { dir: string; run: string } {
  const dir = mkdtempSync(join(tmpdir(), 'runner-jobs-'));
  const extra = { specHash: HASH, ...(opts.stoppedAt ? { stopped: { epoch: opts.stoppedAt, reason: 'asha rung 0' } } : {}) };
  const run = writeFakeRun(dir, { id: '20261129-100000-mlp-aaaaa1', status, extra });
  if (opts.checkpoint) {
    mkdirSync(join(run, 'checkpoint'));
    // A kill between the arrays and the state leaves a checkpoint folder without its state.json.
    writeFileSync(join(run, 'checkpoint', opts.checkpoint === 'whole' ? 'state.json' : 'arrays-1-0-abcdef.bin'), '{}');
  }
  return { dir, run };
}

describe('jobPlan', () => {
  it('reads a run that reached the job\'s epochs instead of training it again', () => {
    const completed = sweepWith('completed');
    expect(jobPlan(completed.dir, HASH, job(0)).reached?.dir).toBe(completed.run);
    const stopped = sweepWith('stopped', { stoppedAt: 3, checkpoint: 'whole' });
    expect(jobPlan(stopped.dir, HASH, job(3)).reached?.dir).toBe(stopped.run);
    expect(jobPlan(stopped.dir, HASH, job(9))).toEqual({ resume: stopped.run });
  });

  it('continues an interrupted run only from a checkpoint written to the end; one a kill cut short starts the trial afresh', () => {
    const whole = sweepWith('interrupted', { checkpoint: 'whole' });
    expect(jobPlan(whole.dir, HASH, job(0))).toEqual({ resume: whole.run });
    expect(jobPlan(sweepWith('interrupted', { checkpoint: 'cut short' }).dir, HASH, job(0))).toEqual({});
    expect(jobPlan(sweepWith('interrupted').dir, HASH, job(0))).toEqual({});
  });

  it('takes over a run marked running only when told its worker is gone', () => {
    // pid 1 on this host is alive, so the run reads as running, not crashed.
    const running = sweepWith('running', { checkpoint: 'whole' });
    expect(jobPlan(running.dir, HASH, job(0))).toEqual({});
    expect(jobPlan(running.dir, HASH, job(0), undefined, true)).toEqual({ resume: running.run });
  });
});
