// Build step: compiles the experiment schema to a standalone (CommonJS) validator module, so that
// `runner` does not load and compile ajv at every start (about 0.2 s).
import { readFileSync, writeFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';

const root = new URL('../', import.meta.url);
const schema = JSON.parse(readFileSync(new URL('schema/experiment.schema.json', root), 'utf8'));
const options = JSON.parse(readFileSync(new URL('schema/ajv-options.json', root), 'utf8'));
const ajv = new Ajv2020({ ...options, code: { source: true } });
writeFileSync(new URL('dist/spec/schema-validate.generated.cjs', root), standaloneCode.default(ajv, ajv.compile(schema)));
