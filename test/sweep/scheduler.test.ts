import { describe, expect, it } from 'vitest';
import { assignBrackets, bracketsOf, budgetOf, rungLadder, Scheduler, underWay, type Decision, type Job, type SchedulerConfig } from '../../src/sweep/scheduler.js';

const ASHA: SchedulerConfig = { kind: 'asha', min: 1, max: 27, eta: 3 };
const HYPERBAND: SchedulerConfig = { ...ASHA, kind: 'hyperband' };
const names = (n: number) => Array.from({ length: n }, (_, i) => `t${String(i).padStart(2, '0')}`);

/**
 * Runs a scheduler with `slots` jobs at a time, a job's result arriving `delay(trial)` steps
 * after it starts (ties: the earlier job first). `quality` is the trial's value at any rung.
 */
function simulate(cfg: SchedulerConfig, n: number, quality: (trial: string, epochs: number) => number, slots = 1, delay: (t: string) => number = () => 1): { log: Decision[]; epochs: number } {
  const s = new Scheduler(cfg, names(n), 'maximize');
  const log: Decision[] = [];
  const running: { job: Job; at: number; trained: number }[] = [];
  const trained = new Map<string, number>();
  let now = 0;
  let epochs = 0;
  for (;;) {
    while (running.length < slots) {
      const job = s.next();
      if (!job) break;
      s.apply(job);
      log.push(job);
      running.push({ job, at: now + delay(job.trial), trained: trained.get(job.trial) ?? 0 });
    }
    if (!running.length) return { log, epochs };
    running.sort((a, b) => a.at - b.at);
    const { job, at, trained: before } = running.shift()!;
    now = at;
    epochs += job.epochs - before;
    trained.set(job.trial, job.epochs);
    const result: Decision = { type: 'result', trial: job.trial, bracket: job.bracket, rung: job.rung, epochs: job.epochs, status: job.epochs === cfg.max ? 'completed' : 'stopped', value: quality(job.trial, job.epochs), trained: job.epochs };
    s.apply(result);
    log.push(result);
  }
}

/** A trial's quality from its name: a fixed pseudo-random order that does not follow the trial order. */
const scrambled = (t: string) => ((Number(t.slice(1)) * 7919) % 101) / 101;

describe('rungs and brackets', () => {
  it('puts rungs at min * eta^k below max, then max', () => {
    expect(rungLadder({ min: 1, max: 27, eta: 3 })).toEqual([1, 3, 9, 27]);
    expect(rungLadder({ min: 2, max: 10, eta: 2 })).toEqual([2, 4, 8, 10]);
    expect(rungLadder({ min: 5, max: 6, eta: 4 })).toEqual([5, 6]);
  });

  it('gives asha one bracket and hyperband the brackets of Li et al. (27, 12, 6 and 4 configurations for max 27, eta 3)', () => {
    expect(bracketsOf(ASHA, 30)).toEqual([{ index: 0, rungs: [1, 3, 9, 27], size: 30 }]);
    expect(bracketsOf(HYPERBAND, 30).map((b) => [b.size, b.rungs])).toEqual([[27, [1, 3, 9, 27]], [12, [3, 9, 27]], [6, [9, 27]], [4, [27]]]);
  });

  it('deals configurations to brackets in proportion to their sizes, every prefix too', () => {
    const brackets = bracketsOf(HYPERBAND, 49);
    const counts = (xs: number[]) => [0, 1, 2, 3].map((b) => xs.filter((x) => x === b).length);
    expect(counts(assignBrackets(brackets, 49))).toEqual([27, 12, 6, 4]);
    const first27 = counts(assignBrackets(brackets, 27));
    expect(first27.reduce((a, b) => a + b, 0)).toBe(27);
    first27.forEach((c, i) => expect(Math.abs(c - (27 * brackets[i]!.size) / 49)).toBeLessThan(1));
    expect(assignBrackets(brackets, 27)).toEqual(assignBrackets(brackets, 49).slice(0, 27));
  });
});

describe('Scheduler (ASHA)', () => {
  it('starts configurations in order and promotes only the top 1/eta of a rung', () => {
    const { log } = simulate(ASHA, 27, scrambled);
    const starts = log.filter((d) => d.type === 'start').map((d) => d.trial);
    expect(starts).toEqual(names(27));
    // Every promotion from rung k took a trial that was in the top floor(n/eta) of rung k at that moment.
    const seen = new Map<number, { trial: string; value: number }[]>();
    for (const d of log) {
      if (d.type === 'result') seen.set(d.rung, [...(seen.get(d.rung) ?? []), { trial: d.trial, value: d.value! }]);
      if (d.type === 'promote') {
        const rung = [...(seen.get(d.rung - 1) ?? [])].sort((a, b) => b.value - a.value);
        const top = rung.slice(0, Math.floor(rung.length / 3)).map((r) => r.trial);
        expect(top).toContain(d.trial);
      }
    }
    // The best configuration reaches max; with results in trial order, it is the best at every rung.
    const best = names(27).reduce((a, b) => (scrambled(b) > scrambled(a) ? b : a));
    expect(log.some((d) => d.type === 'result' && d.trial === best && d.epochs === 27)).toBe(true);
  });

  it('spends about a ninth of the grid for 27 configurations, and never more than its worst case', () => {
    const { epochs } = simulate(ASHA, 27, scrambled);
    const budget = budgetOf(ASHA, 27);
    expect(budget).toEqual({ halving: 81, worst: 593, grid: 729 });
    expect(epochs).toBeGreaterThanOrEqual(budget.halving);
    expect(epochs).toBeLessThan(budget.grid / 5);
    // Results from worst to best: every result after the first eta - 1 of a rung promotes.
    expect(simulate(ASHA, 27, (t) => Number(t.slice(1))).epochs).toBe(budget.worst);
  });

  it('makes the same decisions when replayed from its log, wherever the log was cut', () => {
    const { log } = simulate(ASHA, 27, scrambled);
    for (let cut = 1; cut < log.length; cut++) {
      const s = new Scheduler(ASHA, names(27), 'maximize');
      const kept = log.slice(0, cut);
      kept.forEach((d) => s.apply(d));
      const last = kept[cut - 1]!;
      // Cut after a job: that job is under way and runs again first. Cut after a result: the next decision is the live one.
      if (last.type === 'result') expect([underWay(kept), s.next()]).toEqual([[], log[cut]]);
      else expect(underWay(kept)).toEqual([last]);
    }
  });

  it('keeps jobs under way out of new decisions when several run at once', () => {
    const { log } = simulate(ASHA, 27, scrambled, 3, (t) => 1 + (Number(t.slice(1)) % 4));
    const open = new Set<string>();
    for (const d of log) {
      if (d.type === 'result') open.delete(d.trial);
      else {
        expect(open.has(d.trial)).toBe(false);
        open.add(d.trial);
      }
      expect(open.size).toBeLessThanOrEqual(3);
    }
  });

  it('ranks by the goal: minimize promotes the lowest values', () => {
    const s = new Scheduler(ASHA, names(3), 'minimize');
    for (const [t, v] of [['t00', 0.5], ['t01', 0.2], ['t02', 0.9]] as const) {
      const job = s.next()!;
      expect(job).toMatchObject({ type: 'start', trial: t });
      s.apply(job);
      s.apply({ type: 'result', trial: t, bracket: 0, rung: 0, epochs: 1, status: 'stopped', value: v, trained: 1 });
    }
    expect(s.next()).toEqual({ type: 'promote', trial: 't01', bracket: 0, rung: 1, epochs: 3 });
  });

  it('does not promote a failed trial or one that completed early (early stopping), and refuses a log out of order', () => {
    const s = new Scheduler({ ...ASHA, eta: 2 }, names(4), 'maximize');
    const results: [string, Partial<Decision>][] = [['t00', { status: 'failed' }], ['t01', { status: 'completed', value: 0.9 }], ['t02', { status: 'stopped', value: 0.5 }], ['t03', { status: 'stopped', value: 0.4 }]];
    for (const [t, r] of results) {
      const job = s.next()!;
      s.apply(job);
      s.apply({ type: 'result', trial: t, bracket: 0, rung: 0, epochs: 1, trained: 1, ...r } as Decision);
    }
    // Three values at rung 0, top floor(3/2) = 1: t01, which has completed; nothing to promote, nothing left to start.
    expect(s.ranked(0, 0).map((r) => r.trial)).toEqual(['t01', 't02', 't03']);
    expect(s.next()).toBeUndefined();
    expect(() => new Scheduler(ASHA, names(2), 'maximize').apply({ type: 'start', trial: 't01', bracket: 0, rung: 0, epochs: 1 })).toThrow(/expected trial t00/);
  });
});

describe('Scheduler (Hyperband)', () => {
  it('starts each configuration at its bracket\'s first rung and promotes within brackets only', () => {
    const { log } = simulate(HYPERBAND, 49, scrambled, 2);
    const brackets = bracketsOf(HYPERBAND, 49);
    for (const d of log.filter((x) => x.type === 'start')) expect(d.epochs).toBe(brackets[d.bracket]!.rungs[0]);
    for (const d of log.filter((x) => x.type === 'promote')) {
      const start = log.find((x) => x.type === 'start' && x.trial === d.trial)!;
      expect(d.bracket).toBe(start.bracket);
      expect(d.epochs).toBe(brackets[d.bracket]!.rungs[d.rung]);
    }
    // The last bracket trains its 4 configurations straight to max.
    expect(log.filter((d) => d.type === 'result' && d.bracket === 3).map((d) => d.epochs)).toEqual([27, 27, 27, 27]);
  });
});
