// Compiles schemas/host-spec.schema.json to a standalone ESM validator at build time, so the CLI
// does not load and compile ajv on every run (that was ~100 ms of a ~150 ms plan).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';

const schema = JSON.parse(readFileSync(new URL('../schemas/host-spec.schema.json', import.meta.url), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true, code: { source: true, esm: true } });
const code = standaloneCode.default(ajv, ajv.compile(schema));
mkdirSync(new URL('../dist/spec/', import.meta.url), { recursive: true });
writeFileSync(new URL('../dist/spec/schema-validator.js', import.meta.url), code);
// The output is loaded as ESM: a CommonJS require of an ajv runtime helper would break it.
if (code.includes('require(')) throw new Error('standalone validator needs an ajv runtime helper; extend this script to inline it');
