import { availableParallelism } from 'node:os';
import type { BackendChoice, ThreadsChoice } from '../backend/select.js';
import { textTable } from '../results/tables.js';
import { EXIT, RunnerError } from '../core/errors.js';
import { formatLeaderboard, leaderboardOf } from '../sweep/leaderboard.js';
import { describeTrial, runSweep, triage } from '../sweep/trials.js';
import { planSweep, resolveShard, type SweepPlan } from '../sweep/plan.js';
import { runAdaptiveSweep } from '../sweep/adaptive.js';
import { runQueueSweep } from '../sweep/queue-sweep.js';
import { assignBrackets, budgetOf, bracketsOf } from '../sweep/scheduler.js';

export interface SweepCommandOptions {
  readonly spec?: string;
  /** --set: changes to the spec before the sweep's parameters, as runner run takes them. */
  readonly set?: readonly string[];
  readonly jobs?: number;
  readonly out: string;
  readonly dryRun?: boolean;
  readonly shard?: string;
  readonly shards?: number;
  readonly matrix?: boolean;
  readonly report?: string;
  readonly failFast?: boolean;
  readonly format: 'table' | 'md' | 'json' | 'csv';
  readonly backend?: BackendChoice;
  /** --threads: overrides the spec's threads. */
  readonly threads?: ThreadsChoice;
  readonly noCache?: boolean;
  /** --queue: coordinate the sweep through this Redis; runner worker processes run the trials. */
  readonly queue?: string;
  readonly signal?: AbortSignal;
  readonly onEvent?: (line: string) => void;
}

/** `runner sweep`: expand, shard, run or report a sweep; returns what to print and the exit code. */
export async function sweepCommand(o: SweepCommandOptions): Promise<{ exitCode: number; output: string; errors?: string }> {
  if (o.report !== undefined) return { exitCode: EXIT.ok, output: formatLeaderboard(leaderboardOf(o.report), o.format) };
  if (!o.spec) throw new RunnerError('sweep needs a spec file (or --report DIR)');
  if (o.jobs !== undefined && !(Number.isInteger(o.jobs) && o.jobs >= 1)) throw new RunnerError(`-j ${o.jobs}: expected a whole number >= 1`);
  if (o.shards !== undefined && !(Number.isInteger(o.shards) && o.shards >= 1)) throw new RunnerError(`--shards ${o.shards}: expected a whole number >= 1`);
  const plan = planSweep(o.spec, o.set);
  // The flag that splits the sweep over CI machines in advance, if one was given.
  const split = o.matrix ? 'matrix' : o.shard !== undefined ? 'shard' : o.shards !== undefined ? 'shards' : undefined;
  if (o.queue !== undefined && split) {
    throw new RunnerError(`--queue and --${split} are two ways to spread a sweep over machines: choose one`, 2, ['--queue balances trials over workers as they come; --shard splits a grid in advance (CI jobs)']);
  }
  if (plan.scheduler && split) {
    throw new RunnerError(`${o.spec}: --${split} splits a sweep into fixed parts, but the ${plan.scheduler.kind} scheduler decides promotions as results come in, so its trials cannot be split in advance`, 2, ['run it on one machine (-j N runs trials in parallel), or remove sweep.scheduler to shard a grid or random sweep; spreading an adaptive sweep over machines needs a shared queue (distributed sweeps)']);
  }
  if (plan.scheduler && o.dryRun) return { exitCode: EXIT.ok, output: adaptiveDryRun(plan) };
  if (o.matrix) {
    const n = o.shards ?? 2;
    return { exitCode: EXIT.ok, output: `${JSON.stringify({ include: Array.from({ length: n }, (_, i) => ({ shard: `${i + 1}/${n}` })) })}\n` };
  }
  const shard = resolveShard(o.shard, o.shards);
  if (o.dryRun) {
    const rows = triage(plan, { out: o.out, shard }).map((p) => [p.trial.hash, `${p.shard}`, p.state, describeTrial(p.trial)]);
    const head = `sweep ${plan.id}: ${plan.trials.length} trial(s)${shard ? `, shard ${shard.index}/${shard.total}` : ''}; nothing was run (--dry-run)`;
    return { exitCode: EXIT.ok, output: `${head}\n\n${textTable([['trial', 'shard', 'state', 'overrides'], ...rows])}\n` };
  }
  const jobs = o.jobs ?? availableParallelism();
  const options = { out: o.out, jobs, shard, failFast: o.failFast, backend: o.backend, threads: o.threads, noCache: o.noCache, signal: o.signal, onEvent: o.onEvent };
  const { outcomes, leaderboard, dir } = o.queue !== undefined ? await runQueueSweep(plan, { ...options, jobs: o.jobs ?? 4, queue: o.queue })
    : plan.scheduler ? await runAdaptiveSweep(plan, options) : await runSweep(plan, options);
  const failed = outcomes.filter((x) => x.status === 'failed');
  const interrupted = outcomes.some((x) => x.status === 'interrupted' || x.status === 'skipped' || x.status === 'running') && o.signal?.aborted;
  const lines = [leaderboard ? formatLeaderboard(leaderboard, o.format).trimEnd() : 'no completed trials yet'];
  const ran = outcomes.filter((x) => x.status !== 'skipped').length;
  lines.push('', plan.scheduler !== undefined || o.queue !== undefined
    ? `sweep: ${dir} (${outcomes.length} of ${plan.trials.length} trial(s) started; every decision is in decisions.jsonl)`
    : `sweep: ${dir} (${ran} trial(s) run now, ${plan.trials.length - outcomes.length} already done or on other shards)`);
  const errors = failed.length ? [`runner: ${failed.length} trial(s) failed:`, ...failed.map((f) => `  ${f.trial.hash} ${describeTrial(f.trial)}: ${f.error ?? 'failed'}`)] : [];
  if (interrupted) errors.push('runner: sweep interrupted; run it again to resume');
  const ended = (x: (typeof outcomes)[number]) => x.status === 'completed' || (plan.scheduler !== undefined && x.status === 'stopped');
  const exitCode = interrupted ? EXIT.interrupted : failed.length || outcomes.some((x) => !ended(x)) ? EXIT.failed : EXIT.ok;
  return { exitCode, output: `${lines.join('\n')}\n`, errors: errors.length ? `${errors.join('\n')}\n` : '' };
}

/** What --dry-run shows of an adaptive sweep: its brackets and rungs, the epochs it may train, and which configuration starts where. */
function adaptiveDryRun(plan: SweepPlan): string {
  const cfg = plan.scheduler!;
  const n = plan.trials.length;
  const brackets = bracketsOf(cfg, n);
  const assigned = assignBrackets(brackets, n);
  const budget = budgetOf(cfg, n);
  const pct = (x: number) => `${((100 * x) / budget.grid).toFixed(1)}%`;
  const lines = [
    `sweep ${plan.id}: ${n} trial(s), ${cfg.kind} on train.epochs (min ${cfg.min}, max ${cfg.max}, reduction factor ${cfg.eta}); nothing was run (--dry-run)`,
    '',
    textTable([['bracket', 'rungs (epochs)', 'trials'], ...brackets.map((b) => [String(b.index), b.rungs.join(', '), String(assigned.filter((x) => x === b.index).length)])]),
    '',
    `epochs: ${budget.halving} by successive halving (${pct(budget.halving)} of the grid's ${budget.grid}); at most ${budget.worst} (${pct(budget.worst)}) if results arrive from worst to best`,
    '',
    textTable([['trial', 'bracket', 'overrides'], ...plan.trials.map((t, i) => [t.hash, String(assigned[i]), describeTrial(t, ['train.epochs'])])]),
  ];
  return `${lines.join('\n')}\n`;
}
