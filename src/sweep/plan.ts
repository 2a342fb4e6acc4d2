import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import seedrandom from 'seedrandom';
import { LineCounter, parseDocument } from 'yaml';
import { RunnerError, SpecError, type SpecProblem } from '../core/errors.js';
import { dataKind } from '../data/kinds.js';
import { DataSession } from '../data/session.js';
import { loadSpec } from '../spec/load.js';
import { parseKeyPath, parseOverride, type Override } from '../spec/overrides.js';
import type { SweepSpec, SweepValues } from '../spec/sweep-types.js';
import { specHash, variantHash } from '../spec/hash.js';
import { schedulerOf, type SchedulerConfig } from './scheduler.js';
import { schedulerProblems } from './scheduler-rules.js';

/** One trial: an ordinary run of the spec with these overrides (the seed among them). */
export interface Trial {
  readonly hash: string;
  readonly variant: string;
  readonly overrides: readonly Override[];
  readonly params: Readonly<Record<string, unknown>>;
  readonly seed: number;
}

/** A sweep expanded into trials, every one validated, before anything runs. */
export interface SweepPlan {
  readonly id: string;
  readonly name: string;
  readonly file: string;
  readonly sweep: SweepSpec;
  /** runner sweep --set: applied to the spec before each trial's parameters. */
  readonly set: readonly Override[];
  readonly trials: readonly Trial[];
  /** An adaptive scheduler (asha, hyperband): each trial is planned for its max epochs and stopped at rungs. */
  readonly scheduler?: SchedulerConfig;
}

type Combo = Record<string, unknown>;

function grid(parameters: Record<string, SweepValues>): Combo[] {
  return Object.entries(parameters).reduce<Combo[]>(
    (combos, [key, values]) => combos.flatMap((c) => (values as unknown[]).map((v) => ({ ...c, [key]: v }))),
    [{}],
  );
}

/** Draws `trials` variants with the sweep's own seeded generator (same sweep seed, same variants). */
function sample(sweep: SweepSpec): Combo[] {
  const rng = seedrandom.alea(`sweep:${sweep.seed}`);
  const draw = (values: SweepValues): unknown => {
    if (Array.isArray(values)) return values[Math.floor(rng() * values.length)];
    if ('choice' in values) return values.choice[Math.floor(rng() * values.choice.length)];
    if ('uniform' in values) return values.uniform[0] + rng() * (values.uniform[1] - values.uniform[0]);
    if ('int' in values) return Math.floor(values.int[0] + rng() * (values.int[1] - values.int[0] + 1));
    const [lo, hi] = values.logUniform;
    return Math.exp(Math.log(lo) + rng() * (Math.log(hi) - Math.log(lo)));
  };
  return Array.from({ length: sweep.samples ?? sweep.trials }, () => Object.fromEntries(Object.entries(sweep.parameters).map(([k, v]) => [k, draw(v)])));
}

/**
 * Expands the spec's sweep block into validated trials; every problem of every trial is reported
 * at once (exit 2). `set` (runner sweep --set) changes the spec before the sweep's parameters do.
 */
export function planSweep(file: string, setTexts: readonly string[] = []): SweepPlan {
  const set = setTexts.map(parseOverride);
  const base = loadSpec(file, set);
  // Every trial's data is checked as runner run would, the files read once for all of them.
  const session = new DataSession();
  const specDir = dirname(resolve(file));
  dataKind(base.spec.data).check(base, specDir, session);
  if (!base.sweep) throw new RunnerError(`${file} has no sweep: block`, 2, ['add sweep: {parameters: {key.path: [values...]}} or use runner run']);
  const sweep = base.sweep;
  const lines = parameterLines(file);
  const problems: SpecProblem[] = [];
  if (sweep.method === 'grid') {
    for (const [key, values] of Object.entries(sweep.parameters)) {
      if (!Array.isArray(values)) problems.push({ path: `sweep.parameters.${key}`, line: lines[key], message: 'method grid takes a list of values; uniform, logUniform, int and choice are for method: random' });
    }
  }
  if ('seed' in sweep.parameters && sweep.seeds) problems.push({ path: 'sweep.parameters.seed', line: lines['seed'], message: 'seed is swept by sweep.seeds; remove one of the two' });
  // A --set of a swept key would be replaced by every trial's value: say so rather than ignore it.
  const swept = new Set([...Object.keys(sweep.parameters), ...(sweep.seeds ? ['seed'] : [])].map((k) => parseKeyPath(k).join('.')));
  for (const o of set) {
    const key = o.path.join('.');
    if (swept.has(key)) problems.push({ path: key, line: lines[key], message: `--set ${o.text}: ${key} is swept (${key === 'seed' && sweep.seeds ? 'sweep.seeds' : `sweep.parameters.${key}`}), so every trial would replace it; change the sweep's values instead` });
  }
  const scheduler = schedulerOf(sweep);
  if (scheduler) problems.push(...schedulerProblems(base, sweep, scheduler, set));
  if (problems.length) throw new SpecError(file, problems);
  // The scheduler's resource: every trial is planned (and its schedules computed) for max epochs.
  const budget = scheduler ? [toOverride('train.epochs', scheduler.max, `sweep.scheduler.${scheduler.kind}.max`)] : [];

  const combos = sweep.method === 'grid' ? grid(sweep.parameters) : sample(sweep);
  const seeds = sweep.seeds ?? [base.spec.seed];
  const trials = new Map<string, Trial>();
  for (const combo of combos) {
    for (const seed of seeds) {
      const overrides = [...Object.entries(combo).map(([k, v]) => toOverride(k, v, `sweep.parameters.${k}${lines[k] ? ` (line ${lines[k]})` : ''}`)), toOverride('seed', seed, 'sweep.seeds'), ...budget];
      try {
        const loaded = loadSpec(file, [...set, ...overrides]);
        dataKind(loaded.spec.data).check(loaded, specDir, session);
        const { spec } = loaded;
        const hash = specHash(spec);
        if (!trials.has(hash)) trials.set(hash, { hash, variant: variantHash(spec), overrides, params: combo, seed: spec.seed });
      } catch (err) {
        if (!(err instanceof SpecError)) throw err;
        problems.push(...err.problems);
      }
    }
  }
  if (problems.length) throw new SpecError(file, dedupe(problems));
  if (trials.size === 0) throw new RunnerError(`${file}: the sweep has no trials`);
  const h = specHash({ experiment: base.spec, sweep }).slice(0, 8);
  const id = /sweep$/.test(base.spec.name) ? `${base.spec.name}-${h}` : `${base.spec.name}-sweep-${h}`;
  return { id, name: base.spec.name, file, sweep, set, trials: [...trials.values()], ...(scheduler ? { scheduler } : {}) };
}

function toOverride(key: string, value: unknown, source: string): Override {
  return { text: `${key}=${JSON.stringify(value)}`, path: parseKeyPath(key), value, source };
}

/** Line of each sweep.parameters key, to point errors at. */
function parameterLines(file: string): Record<string, number> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter });
  const params = doc.getIn(['sweep', 'parameters'], true) as { items?: { key: { value: string; range?: number[] } }[] } | undefined;
  return Object.fromEntries((params?.items ?? []).map((p) => [p.key.value, p.key.range ? lineCounter.linePos(p.key.range[0]!).line : 0]));
}

function dedupe(problems: SpecProblem[]): SpecProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => !seen.has(`${p.path}|${p.source}|${p.message}`) && seen.add(`${p.path}|${p.source}|${p.message}`));
}

/** The --set texts a trial is run with: the sweep's own --set, then the trial's parameters. */
export const trialSets = (plan: SweepPlan, trial: Trial): string[] => [...plan.set, ...trial.overrides].map((o) => o.text);

/** Shard (1-based) of a trial: a fixed function of its hash, so every machine agrees. */
export function shardOf(hash: string, total: number): number {
  return (parseInt(hash.slice(0, 8), 16) % total) + 1;
}

/** `i/N` from --shard, else from the CI's own variables; undefined when not sharded. */
export function resolveShard(flag: string | undefined, shards: number | undefined, env: NodeJS.ProcessEnv = process.env): { index: number; total: number } | undefined {
  const check = (index: number, total: number, from: string) => {
    if (!Number.isInteger(index) || !Number.isInteger(total) || total < 1 || index < 1 || index > total) {
      throw new RunnerError(`${from}: shard ${index}/${total} does not exist; expected i/N with 1 <= i <= N`);
    }
    return { index, total };
  };
  if (flag !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(flag.trim());
    if (!m) throw new RunnerError(`--shard '${flag}': expected i/N, e.g. --shard 1/2`);
    return check(Number(m[1]), Number(m[2]), '--shard');
  }
  const pairs: [string, string, number][] = [
    ['CI_NODE_INDEX', 'CI_NODE_TOTAL', 0], // GitLab: 1-based
    ['CIRCLE_NODE_INDEX', 'CIRCLE_NODE_TOTAL', 1], // CircleCI: 0-based
    ['BUILDKITE_PARALLEL_JOB', 'BUILDKITE_PARALLEL_JOB_COUNT', 1], // Buildkite: 0-based
  ];
  for (const [i, n, offset] of pairs) {
    if (env[i] !== undefined && env[n] !== undefined) return check(Number(env[i]) + offset, Number(env[n]), `$${i}/$${n}`);
  }
  if (env['JOB_COMPLETION_INDEX'] !== undefined) {
    if (shards === undefined) throw new RunnerError('$JOB_COMPLETION_INDEX is set (Kubernetes Indexed Job): give the number of shards with --shards N');
    return check(Number(env['JOB_COMPLETION_INDEX']) + 1, shards, '$JOB_COMPLETION_INDEX');
  }
  return undefined;
}
