import type { SweepSpec } from '../spec/sweep-types.js';

/** An adaptive sweep's scheduler as the spec sets it: asha (one bracket) or hyperband (several). */
export interface SchedulerConfig {
  readonly kind: 'asha' | 'hyperband';
  readonly min: number;
  readonly max: number;
  readonly eta: number;
}

/** One bracket: the epochs of its rungs (the first is where its configurations start) and how many configurations it takes per round. */
export interface Bracket { readonly index: number; readonly rungs: readonly number[]; readonly size: number }

/** What the scheduler decided (start a configuration, promote a trial) or learned (a trial's result at a rung): one line of decisions.jsonl. */
export type Decision =
  | { readonly type: 'start' | 'promote'; readonly trial: string; readonly bracket: number; readonly rung: number; readonly epochs: number }
  | {
    readonly type: 'result'; readonly trial: string; readonly bracket: number; readonly rung: number; readonly epochs: number;
    /** stopped: at the rung, may go on; completed: trained to the end (the last rung, or early stopping); failed: no value. */
    readonly status: 'stopped' | 'completed' | 'failed';
    readonly value?: number;
    /** Epochs the run has recorded. */
    readonly trained: number;
    readonly run?: string;
    readonly error?: string;
  };

export type Job = Extract<Decision, { type: 'start' | 'promote' }>;
export type Result = Extract<Decision, { type: 'result' }>;

/** The jobs a log issued and did not answer (a sweep killed meanwhile runs them first), in the order they were issued. */
export function underWay(log: readonly Decision[]): Job[] {
  const open = new Map<string, Job>();
  for (const d of log) {
    if (d.type === 'result') open.delete(d.trial);
    else open.set(d.trial, d);
  }
  return [...open.values()];
}

/** The scheduler of a sweep block, if it has one. */
export function schedulerOf(sweep: SweepSpec): SchedulerConfig | undefined {
  const s = sweep.scheduler;
  const kind = s?.asha ? 'asha' : s?.hyperband ? 'hyperband' : undefined;
  if (!kind) return undefined;
  const b = s![kind]!;
  return { kind, min: b.min, max: b.max, eta: b.reductionFactor };
}

/** Rung epochs min, min*eta, min*eta^2, ... below max, then max. */
export function rungLadder({ min, max, eta }: Pick<SchedulerConfig, 'min' | 'max' | 'eta'>): number[] {
  const rungs: number[] = [];
  for (let e = min; e < max; e *= eta) rungs.push(e);
  return [...rungs, max];
}

/**
 * The brackets: asha has one, starting at min. Hyperband (Li et al. 2018) has s_max + 1, bracket s
 * starting s rungs below the top with ceil((s_max + 1) / (s + 1) * eta^s) configurations per round.
 */
export function bracketsOf(cfg: SchedulerConfig, configs: number): Bracket[] {
  const ladder = rungLadder(cfg);
  if (cfg.kind === 'asha') return [{ index: 0, rungs: ladder, size: configs }];
  const sMax = ladder.length - 1;
  return Array.from({ length: sMax + 1 }, (_, i) => {
    const s = sMax - i;
    return { index: i, rungs: ladder.slice(i), size: Math.ceil(((sMax + 1) / (s + 1)) * cfg.eta ** s) };
  });
}

/**
 * The bracket of each configuration, in order: each bracket gets its share of the configurations
 * (its size over the sizes' sum), dealt out so that every prefix of them is shared the same way
 * (the first configurations go to the bracket furthest below its share; ties to the earlier bracket).
 */
export function assignBrackets(brackets: readonly Bracket[], configs: number): number[] {
  const total = brackets.reduce((a, b) => a + b.size, 0);
  const given = brackets.map(() => 0);
  return Array.from({ length: configs }, (_, i) => {
    const owed = brackets.map((b, j) => (b.size * (i + 1)) / total - given[j]!);
    const j = owed.indexOf(Math.max(...owed));
    given[j]!++;
    return brackets[j]!.index;
  });
}

/**
 * Epochs trained by successive halving over these brackets (the top 1/eta of each rung go on),
 * and the worst case for the asynchronous rule: results arriving from worst to best, every one
 * after the first eta - 1 of a rung promotes. Continued trials pay only the epochs they add.
 */
export function budgetOf(cfg: SchedulerConfig, configs: number): { halving: number; worst: number; grid: number } {
  const brackets = bracketsOf(cfg, configs);
  const counts = new Map<number, number>();
  for (const b of assignBrackets(brackets, configs)) counts.set(b, (counts.get(b) ?? 0) + 1);
  let halving = 0;
  let worst = 0;
  for (const b of brackets) {
    const n = counts.get(b.index) ?? 0;
    let h = n;
    let w = n;
    halving += n * b.rungs[0]!;
    worst += n * b.rungs[0]!;
    for (let k = 1; k < b.rungs.length; k++) {
      h = Math.floor(h / cfg.eta);
      w = Math.max(0, w - cfg.eta + 1);
      halving += h * (b.rungs[k]! - b.rungs[k - 1]!);
      worst += w * (b.rungs[k]! - b.rungs[k - 1]!);
    }
  }
  return { halving, worst, grid: configs * cfg.max };
}

/** Where a sweep's jobs come from: a scheduler, or every trial in order (grid and random sweeps on a queue). */
export interface JobSource {
  apply(d: Decision): void;
  next(): Job | undefined;
}

/** Grid and random sweeps as jobs: each trial started once, in order, trained to its own epochs (epochs 0: no rung). */
export class InOrder implements JobSource {
  private started = 0;

  constructor(private readonly order: readonly string[]) {}

  apply(d: Decision): void {
    if (d.type !== 'start') return;
    if (this.order[this.started] !== d.trial) throw new Error(`decision log: expected trial ${this.order[this.started]} to start next, not ${d.trial}`);
    this.started++;
  }

  next(): Job | undefined {
    const trial = this.order[this.started];
    return trial === undefined ? undefined : { type: 'start', trial, bracket: 0, rung: 0, epochs: 0 };
  }
}

interface TrialState { rung: number; running: boolean; promotedFrom: Set<number> }

/**
 * ASHA (Li et al., MLSys 2020) over one or more brackets, as a pure state machine: `apply` takes
 * each decision and result in the order they happened (live, or replayed from decisions.jsonl),
 * `next` gives the next job. The same decisions in give the same decisions out.
 */
export class Scheduler implements JobSource {
  readonly brackets: Bracket[];
  private readonly bracketOf: number[];
  private readonly trials = new Map<string, TrialState>();
  /** Results by bracket and rung, in arrival order. */
  private readonly results = new Map<string, Result[]>();
  private started = 0;

  constructor(readonly cfg: SchedulerConfig, private readonly order: readonly string[], private readonly goal: 'maximize' | 'minimize') {
    this.brackets = bracketsOf(cfg, order.length);
    this.bracketOf = assignBrackets(this.brackets, order.length);
  }

  apply(d: Decision): void {
    if (d.type === 'start') {
      if (this.order[this.started] !== d.trial) throw new Error(`decision log: expected trial ${this.order[this.started]} to start next, not ${d.trial}`);
      this.started++;
      this.trials.set(d.trial, { rung: d.rung, running: true, promotedFrom: new Set() });
      return;
    }
    const t = this.trials.get(d.trial);
    if (!t) throw new Error(`decision log: trial ${d.trial} has a ${d.type} before it started`);
    if (d.type === 'promote') {
      t.promotedFrom.add(t.rung);
      Object.assign(t, { rung: d.rung, running: true });
      return;
    }
    const r = d as Result;
    t.running = false;
    const key = `${r.bracket}/${r.rung}`;
    this.results.set(key, [...(this.results.get(key) ?? []), r]);
  }

  /** The next job: promote the best unpromoted trial in the top 1/eta of the highest rung that has one, else start the next configuration; none while only waiting is left. */
  next(): Job | undefined {
    for (const b of this.brackets) {
      for (let k = b.rungs.length - 2; k >= 0; k--) {
        const ranked = this.ranked(b.index, k);
        for (const r of ranked.slice(0, Math.floor(ranked.length / this.cfg.eta))) {
          const t = this.trials.get(r.trial)!;
          if (r.status === 'stopped' && !t.running && !t.promotedFrom.has(k)) return { type: 'promote', trial: r.trial, bracket: b.index, rung: k + 1, epochs: b.rungs[k + 1]! };
        }
      }
    }
    if (this.started < this.order.length) {
      const bracket = this.bracketOf[this.started]!;
      return { type: 'start', trial: this.order[this.started]!, bracket, rung: 0, epochs: this.brackets[bracket]!.rungs[0]! };
    }
    return undefined;
  }

  /** A rung's results that have a value, best first (ties: the earlier configuration first). */
  ranked(bracket: number, rung: number): Result[] {
    const sign = this.goal === 'maximize' ? -1 : 1;
    const index = (trial: string) => this.order.indexOf(trial);
    return (this.results.get(`${bracket}/${rung}`) ?? []).filter((r) => r.value !== undefined)
      .sort((a, b) => sign * (a.value! - b.value!) || index(a.trial) - index(b.trial));
  }
}
