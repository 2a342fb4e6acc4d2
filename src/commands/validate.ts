import { loadSpec } from '../spec/load.js';
import { parseOverride } from '../spec/overrides.js';
import type { ExperimentSpec } from '../spec/types.js';

/** `runner validate`: checks a spec (and overrides) without running anything; returns the resolved spec. */
export function validateSpec(file: string, set: readonly string[] = []): { spec: ExperimentSpec; resolvedYaml: string } {
  const { spec, resolvedYaml } = loadSpec(file, set.map(parseOverride));
  return { spec, resolvedYaml };
}
