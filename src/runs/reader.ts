import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { globSync } from 'tinyglobby';
import { parse } from 'yaml';
import { RunnerError } from '../core/errors.js';
import { alive } from '../core/process.js';
import type { RecordedStatus, RunRecord } from './record.js';
import { checkedRecord } from './record-check.js';
import { RUN_FILES, runSuffix } from './run-dir.js';

export type RunStatus = RecordedStatus | 'crashed';

/** One epoch as read back from metrics.jsonl. */
export type EpochRow = Record<string, number>;

/** A run folder as read back: its record, its resolved spec, its curves and its test summary. */
export interface RunView {
  readonly id: string;
  readonly dir: string;
  readonly name: string;
  readonly status: RunStatus;
  readonly record: RunRecord;
  readonly spec: Record<string, unknown>;
  readonly metrics: readonly EpochRow[];
  readonly summary?: Summary;
  /** What is wrong with its files (a damaged metrics.jsonl, a missing summary.json): compare, report and ls show it. */
  readonly problems: readonly string[];
}

/** A run that says `running` but whose process on this host is gone has crashed. */
function effectiveStatus(record: RunRecord): RunStatus {
  if (record.status !== 'running') return record.status;
  const sameHost = record.host?.hostname === hostname();
  return sameHost && typeof record.pid === 'number' && !alive(record.pid) ? 'crashed' : 'running';
}

function readJsonFile(file: string, what: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new RunnerError(`${what} is not valid JSON (truncated or edited by hand?): ${file}`);
  }
}

/** summary.json as read back: test loss and metrics, and (classification) the confusion matrix and per-class scores. */
export interface Summary {
  readonly loss?: number;
  readonly accuracy?: number;
  readonly examples?: number;
  readonly macroAvg?: { readonly f1?: number };
  readonly [value: string]: unknown;
}

/** Reads a run folder without changing it; a folder that is not a run, or is unreadable, is a RunnerError (exit 2). */
export function readRun(dir: string): RunView {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new RunnerError(`'${dir}' is not a run folder: no such folder`);
  const runFile = join(abs, RUN_FILES.run);
  if (!existsSync(runFile)) throw new RunnerError(`'${dir}' is not a run folder: it has no run.json`);
  const problems: string[] = [];
  const record = checkedRecord(readJsonFile(runFile, `run.json of '${dir}'`), dir, problems);
  const resolvedFile = join(abs, RUN_FILES.resolved);
  let spec: Record<string, unknown> = {};
  try {
    if (existsSync(resolvedFile)) spec = (parse(readFileSync(resolvedFile, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new RunnerError(`resolved.yaml of '${dir}' is not valid YAML (edited by hand?): ${(err as Error).message.split('\n')[0]}`);
  }
  const status = effectiveStatus(record);
  const metrics = readMetrics(join(abs, RUN_FILES.metrics), problems);
  return {
    id: String(record.id ?? basename(abs)), dir: abs, name: String(record.name ?? ''), status, record, spec, metrics,
    summary: readSummary(join(abs, RUN_FILES.summary), status, problems), problems,
  };
}

/** summary.json, when it is there and whole; a completed run without one (or with a damaged one) is a problem, not an error. */
function readSummary(file: string, status: RunStatus, problems: string[]): Summary | undefined {
  if (!existsSync(file)) {
    if (status === 'completed') problems.push(`${RUN_FILES.summary} is missing (deleted?): the run has no test values`);
    return undefined;
  }
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Summary;
  } catch {
    // reported below
  }
  problems.push(`${RUN_FILES.summary} is not a JSON object (damaged or edited by hand?): the run's test values are left out`);
  return undefined;
}

/**
 * metrics.jsonl rows up to the first line that is not an epoch (a JSON object with a numeric
 * epoch); a damaged line is a problem, except a half-written last line of a run still writing.
 */
function readMetrics(file: string, problems: string[]): EpochRow[] {
  if (!existsSync(file)) return [];
  const rows: EpochRow[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      row = undefined;
    }
    if (typeof row !== 'object' || row === null || typeof (row as EpochRow)['epoch'] !== 'number') {
      const last = lines.slice(i + 1).every((l) => l.trim() === '');
      if (!last || !lines[lines.length - 1]!.length) problems.push(`${RUN_FILES.metrics} line ${i + 1} is not an epoch's values (damaged?): epochs from there on are left out`);
      break;
    }
    rows.push(row as EpochRow);
  }
  return rows;
}

/** Where a run's relative data paths point from: spec.dir in run.json, else (older runs) the spec file's folder. */
export function specDirOf(run: RunView): string {
  const spec = run.record.spec as RunRecord['spec'] | undefined;
  return spec?.dir ?? dirname(resolve(spec?.file ?? run.dir));
}

/** Whether a folder holds a run.json (cheap check for listings). */
export function isRunDir(dir: string): boolean {
  return existsSync(join(dir, RUN_FILES.run));
}

/** Every run folder under `dir` (the folder itself, its children, and theirs: CI artifacts nest). */
export function findRunDirs(dir: string, depth = 3): string[] {
  if (!existsSync(dir)) return [];
  if (isRunDir(dir)) return [dir];
  if (depth === 0) return [];
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => findRunDirs(join(dir, e.name), depth - 1)).sort();
}

/**
 * Turns arguments into run folders: a folder, a glob (`runs/*`), or a unique prefix of a run id
 * (or of its 6-hex suffix) among the runs in `runsDir`.
 */
export function resolveRunArgs(args: readonly string[], runsDir = 'runs'): string[] {
  const out: string[] = [];
  for (const arg of args) {
    if (/[*?[\]{}]/.test(arg)) {
      const hits = globSync(arg, { onlyDirectories: true, expandDirectories: false }).map((p) => p.replace(/\/$/, '')).filter(isRunDir).sort();
      if (hits.length === 0) throw new RunnerError(`'${arg}' matches no run folder`);
      out.push(...hits);
    } else if (existsSync(arg)) {
      out.push(arg);
    } else {
      out.push(byPrefix(arg, runsDir));
    }
  }
  return [...new Set(out.map((p) => resolve(p)))];
}

function byPrefix(prefix: string, runsDir: string): string {
  const ids = existsSync(runsDir) ? readdirSync(runsDir).filter((d) => isRunDir(join(runsDir, d))) : [];
  const hits = ids.filter((id) => id.startsWith(prefix) || runSuffix(id).startsWith(prefix));
  if (hits.length === 1) return join(runsDir, hits[0]!);
  if (hits.length === 0) throw new RunnerError(`'${prefix}' is neither a folder nor the start of a run id in ${runsDir}/`);
  throw new RunnerError(`'${prefix}' is ambiguous: it starts ${hits.length} run ids`, 2, hits.slice(0, 10));
}
