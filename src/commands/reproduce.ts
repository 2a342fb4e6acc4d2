import { dirname, join } from 'node:path';
import type { BackendChoice, ThreadsChoice } from '../backend/select.js';
import { versions } from '../runs/environment.js';
import { EXIT, RunnerError } from '../core/errors.js';
import { flatten } from '../results/compare.js';
import { loadSpec } from '../spec/load.js';
import { planRun } from '../pipeline/plan.js';
import { runExperiment, type RunIO } from '../pipeline/run.js';
import { parseOverride } from '../spec/overrides.js';
import { readRun, resolveRunArgs, specDirOf, type RunView } from '../runs/reader.js';
import { RUN_FILES, runSuffix } from '../runs/run-dir.js';
import { specHash } from '../spec/hash.js';
import type { ExperimentSpec } from '../spec/types.js';
import { verifyRuns, type Verification } from '../results/verify.js';
import { formatOutcome } from '../results/outcome.js';

/** What `runner reproduce` takes: the run, whether and how strictly to verify, where the new run goes. */
export interface ReproduceOptions extends RunIO {
  readonly run: string;
  readonly runsDir?: string;
  readonly verify?: boolean;
  readonly tolerance?: number;
  readonly backend?: BackendChoice;
  /** --threads: overrides the spec's threads. */
  readonly threads?: ThreadsChoice;
  readonly out?: string;
  readonly noCache?: boolean;
}

/** Most differences listed before "and N more". */
const MAX_LISTED = 20;

/**
 * `runner reproduce`: reruns a run from its own resolved.yaml (and so its seed) into a new
 * folder beside it, on the backend it used; with --verify, compares the two value by value.
 */
export async function reproduceCommand(opts: ReproduceOptions): Promise<{ exitCode: number; output: string; runDir: string }> {
  const [dir] = resolveRunArgs([opts.run], opts.runsDir);
  const original = readRun(dir!);
  if (opts.verify && original.status !== 'completed') {
    throw new RunnerError(`${original.id} is ${original.status}: only a completed run can be verified`, 2, original.status === 'interrupted' || original.status === 'stopped' ? ['finish it first with runner resume'] : []);
  }
  const warn = opts.warn ?? (() => {});
  const specDir = specDirOf(original);
  const resolvedFile = join(original.dir, RUN_FILES.resolved);
  const plan = planRun(resolvedFile, [], { specDir });
  const { spec } = plan;
  const recordedHash = original.record.specHash;
  if (recordedHash && specHash(spec) !== recordedHash) {
    const changed = editedKeys(original, spec);
    warn(`${resolvedFile} has been edited since the run (spec hash ${specHash(spec).slice(0, 12)}, recorded ${recordedHash.slice(0, 12)}): the rerun uses the edited values${changed ? `; changed: ${changed}` : ''}`);
  }
  const backend = opts.backend ?? original.record.backend.used ?? spec.backend;
  for (const w of environmentDifferences(original, backend)) warn(w);

  const outcome = await runExperiment(plan, { ...opts, warn, out: opts.out ?? dirname(original.dir), backend, reproduces: original.id, argv: ['reproduce', original.dir] });
  const lines = [formatOutcome(outcome).trimEnd()];
  if (outcome.status !== 'completed') return { exitCode: outcome.exitCode, output: `${lines.join('\n')}\n`, runDir: outcome.runDir };
  const rerun = readRun(outcome.runDir);
  const oldData = original.record.data?.sha256;
  const newData = rerun.record.data?.sha256;
  if (oldData && newData && oldData !== newData) warn(`the data differ from the original run's (fingerprint ${newData.slice(0, 12)}, recorded ${oldData.slice(0, 12)})`);
  if (!opts.verify) return { exitCode: EXIT.ok, output: `${lines.join('\n')}\n`, runDir: outcome.runDir };
  const v = verifyRuns(original, rerun, opts.tolerance ?? 0);
  lines.push(...verificationLines(v, original, rerun, opts.tolerance ?? 0));
  return { exitCode: v.beyond.length ? EXIT.failed : EXIT.ok, output: `${lines.join('\n')}\n`, runDir: outcome.runDir };
}

/**
 * Which values of resolved.yaml differ from the spec the run started with (its spec.yaml and
 * --set overrides, resolved again); undefined when that cannot be worked out.
 */
function editedKeys(original: RunView, edited: ExperimentSpec): string | undefined {
  try {
    const overrides = original.record.spec.overrides.map(parseOverride);
    const { spec: before } = loadSpec(join(original.dir, RUN_FILES.spec), overrides);
    const [a, b] = [flatten(before), flatten(edited)];
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => k !== 'name' && JSON.stringify(a[k]) !== JSON.stringify(b[k]));
    return keys.length ? keys.map((k) => `${k} ${JSON.stringify(a[k]) ?? 'unset'} -> ${JSON.stringify(b[k]) ?? 'unset'}`).join(', ') : undefined;
  } catch {
    return undefined;
  }
}

/** Versions and backend that differ from the original run's: identity is not to be expected then. */
function environmentDifferences(original: RunView, backend: string): string[] {
  const out: string[] = [];
  const recorded: Partial<Record<string, string>> = { ...original.record.versions };
  for (const [k, v] of Object.entries(versions())) {
    if (recorded[k] !== undefined && recorded[k] !== v) out.push(`${k} is ${v} here but was ${recorded[k]} for the original run: results may differ`);
  }
  const used = original.record.backend.used;
  if (used && backend !== used) out.push(`the original run used the ${used} backend; this one asks for ${backend}: floating-point results will differ`);
  return out;
}

function verificationLines(v: Verification, a: RunView, b: RunView, tolerance: number): string[] {
  const what = `${v.compared.epochs} epochs (${v.compared.values} values), ${v.compared.summaryValues} test-summary values, ${v.compared.weights.toLocaleString('en-US')} weights`;
  if (v.identical) return [`verify: identical to ${a.id}: ${what}, bitwise (weights sha256 ${v.weightsSha256.a.slice(0, 16)})`];
  if (v.beyond.length === 0) return [`verify: within tolerance ${tolerance} of ${a.id}: ${what}; largest difference ${v.maxDiff.toExponential(2)}`];
  const shown = v.beyond.slice(0, MAX_LISTED).map((d) => `  ${d.where}: ${fmt(d.a)} (original) vs ${fmt(d.b)} (${runSuffix(b.id)}), difference ${Number.isFinite(d.diff) ? d.diff.toExponential(2) : 'n/a'}`);
  if (v.beyond.length > MAX_LISTED) shown.push(`  and ${v.beyond.length - MAX_LISTED} more`);
  return [`verify: ${v.beyond.length} difference${v.beyond.length === 1 ? '' : 's'} beyond tolerance ${tolerance} from ${a.id} (compared ${what}):`, ...shown];
}

const fmt = (x: number | string) => (typeof x === 'number' ? String(x) : `'${x}'`);
