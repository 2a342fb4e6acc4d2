import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';

/** The validator compiled at build time (scripts/compile-schema.mjs), when there is one. */
function precompiled(): ValidateFunction | undefined {
  try {
    return (createRequire(import.meta.url)('./schema-validate.generated.cjs') as { default: ValidateFunction }).default;
  } catch {
    return undefined;
  }
}

let compiled: ValidateFunction | undefined = precompiled();

/** Compiles the schema at run time (tests run from the sources; same options as the build). */
async function compileNow(): Promise<ValidateFunction> {
  const { Ajv2020 } = await import('ajv/dist/2020.js');
  const options = JSON.parse(readFileSync(new URL('../../schema/ajv-options.json', import.meta.url), 'utf8')) as object;
  const schema = JSON.parse(readFileSync(new URL('../../schema/experiment.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  return new Ajv2020(options).compile(schema);
}
compiled ??= await compileNow();

/** Validates (and fills defaults into) a spec object; returns every schema error. */
export function validateAgainstSchema(data: Record<string, unknown>): ErrorObject[] {
  return compiled!(data) ? [] : [...(compiled!.errors ?? [])];
}
