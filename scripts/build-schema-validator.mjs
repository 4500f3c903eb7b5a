// Compiles the JSON Schemas to standalone ESM validators at build time, so the CLI does not load
// and compile ajv on every run (that was ~100 ms of a ~150 ms plan).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { fragmentSchema } from './fragment-schema.mjs';

const read = (name) => JSON.parse(readFileSync(new URL(`../schemas/${name}`, import.meta.url), 'utf8'));
const hostSchema = read('host-spec.schema.json');
// Derived, written for editors; test/fleet-schema.test.ts checks the committed copy is current.
const fragment = fragmentSchema(hostSchema);
writeFileSync(new URL('../schemas/fragment.schema.json', import.meta.url), `${JSON.stringify(fragment, null, 2)}\n`);

function compile(schema, out) {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true, code: { source: true, esm: true } });
  const code = standaloneCode.default(ajv, ajv.compile(schema));
  const url = new URL(`../dist/${out}`, import.meta.url);
  mkdirSync(new URL('./', url), { recursive: true });
  writeFileSync(url, code);
  // The output is loaded as ESM: a CommonJS require of an ajv runtime helper would break it.
  if (code.includes('require(')) throw new Error(`standalone validator ${out} needs an ajv runtime helper; extend this script to inline it`);
}

compile(hostSchema, 'spec/schema-validator.js');
compile(read('fleet.schema.json'), 'fleet/fleet-validator.js');
compile(fragment, 'fleet/fragment-validator.js');
