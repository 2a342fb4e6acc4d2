import { loadSpec } from '../pipeline/load-spec.js';
import { parseOverride } from '../pipeline/overrides.js';
import type { ExperimentSpec } from '../pipeline/spec.js';

/** `runner validate`: checks a spec (and overrides) without running anything; returns the resolved spec. */
export function validateSpec(file: string, set: readonly string[] = []): { spec: ExperimentSpec; resolvedYaml: string } {
  const { spec, resolvedYaml } = loadSpec(file, set.map(parseOverride));
  return { spec, resolvedYaml };
}
