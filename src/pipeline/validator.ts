import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { loadSchema } from './spec.js';

let compiled: ValidateFunction | undefined;

/** Validates (and fills defaults into) a spec object; returns every schema error. */
export function validateAgainstSchema(data: Record<string, unknown>): ErrorObject[] {
  compiled ??= new Ajv2020({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true, verbose: true }).compile(loadSchema());
  return compiled(data) ? [] : [...(compiled.errors ?? [])];
}
