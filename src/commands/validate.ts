import { planRun } from '../pipeline/plan.js';
import type { ExperimentSpec } from '../spec/types.js';

/** `runner validate`: plans a spec (and overrides) as `runner run` would, running nothing; returns the resolved spec. */
export function validateSpec(file: string, set: readonly string[] = []): { spec: ExperimentSpec; resolvedYaml: string } {
  const { spec, loaded } = planRun(file, set);
  return { spec, resolvedYaml: loaded.resolvedYaml };
}
