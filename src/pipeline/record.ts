import { relative, resolve } from 'node:path';
import type { BackendInfo } from '../backend/select.js';
import { hostInfo, versions } from '../runs/environment.js';
import { RUN_FORMAT, type RunRecord, type SweepMeta } from '../runs/record.js';
import type { RunDir } from '../runs/run-dir.js';
import { specHash, variantHash } from '../spec/hash.js';
import type { PlannedRun } from './plan.js';

/** What run.json records of how the run was asked for. */
export interface RecordOrigin {
  /** The command line, as `runner ...` would take it again. */
  readonly argv?: readonly string[];
  /** Set by `runner reproduce`: the id of the run this one reproduces. */
  readonly reproduces?: string;
  /** Set on a sweep's trials: which sweep and trial, and what it ranks by. */
  readonly sweep?: SweepMeta;
}

/** run.json as it starts: identity, what was asked, where it runs; git's answer is added when it comes. */
export function newRecord(runDir: RunDir, plan: PlannedRun, backend: BackendInfo, origin: RecordOrigin, startedAt = new Date()): RunRecord {
  const file = plan.loaded.file;
  return {
    formatVersion: RUN_FORMAT,
    id: runDir.id,
    name: plan.spec.name,
    status: 'running',
    pid: process.pid,
    startedAt: startedAt.toISOString(),
    command: origin.argv ?? ['run', file, ...plan.overrides.flatMap((s) => ['--set', s])],
    spec: { file: relative(process.cwd(), resolve(file)) || file, dir: plan.specDir, overrides: plan.overrides },
    ...(origin.reproduces ? { reproduces: origin.reproduces } : {}),
    seed: plan.spec.seed,
    specHash: specHash(plan.spec),
    variantHash: variantHash(plan.spec),
    ...(origin.sweep ? { sweep: origin.sweep } : {}),
    backend,
    versions: versions(),
    // Filled in when git answers; the key keeps its place in the file.
    git: null,
    host: hostInfo(),
    stages: [],
  };
}
