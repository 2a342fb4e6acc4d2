import { dirname, resolve } from 'node:path';
import { dataKind } from '../data/kinds.js';
import { DataSession } from '../data/session.js';
import { loadSpec, type LoadedSpec } from '../spec/load.js';
import { parseOverride } from '../spec/overrides.js';
import type { ExperimentSpec } from '../spec/types.js';
import { STAGES } from '../stages/index.js';
import type { Stage, StageContext } from '../stages/stage.js';
import { planStages, type StagePlan } from './graph.js';

/** A run checked and planned, with nothing written yet: the spec, its data checked, the stage order. */
export interface PlannedRun {
  readonly loaded: LoadedSpec;
  readonly spec: ExperimentSpec;
  /** Where the spec's relative paths point from. */
  readonly specDir: string;
  /** The --set overrides as given. */
  readonly overrides: readonly string[];
  readonly stages: StagePlan<Stage<unknown, never, StageContext>>;
  /** The run's data reads, begun by the check (a table read here is not read again by load). */
  readonly session: DataSession;
}

/** Where a spec's relative paths start, and the data reads to share (a sweep checks every trial with one). */
export interface PlanOptions {
  readonly specDir?: string;
  readonly session?: DataSession;
}

/**
 * Plans a run before any folder exists (DVC's reproduce plans before it runs): the spec read,
 * overridden and validated, its data checked against it, the stage graph checked and ordered.
 * Every problem is an error here (exit 2), never a half-made run.
 */
export function planRun(file: string, set: readonly string[] = [], opts: PlanOptions = {}): PlannedRun {
  const loaded = loadSpec(file, set.map(parseOverride));
  const specDir = opts.specDir ?? dirname(resolve(file));
  const session = opts.session ?? new DataSession();
  dataKind(loaded.spec.data).check(loaded, specDir, session);
  return { loaded, spec: loaded.spec, specDir, overrides: [...set], stages: planStages(STAGES as readonly Stage<unknown, never, StageContext>[]), session };
}
