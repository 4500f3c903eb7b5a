import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { REPO } from './cli.js';

const SCHEMAS = path.join(REPO, 'schemas');
const cache = new Map<string, ValidateFunction>();

/**
 * A validator for one schema file of schemas/ (e.g. 'plan.schema.json'), strict like the product's
 * own, with the shared definitions of outputs-common.schema.json resolvable by $ref.
 */
export function outputValidator(schemaFile: string): ValidateFunction {
  let v = cache.get(schemaFile);
  if (!v) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    const load = (f: string) => JSON.parse(readFileSync(path.join(SCHEMAS, f), 'utf8')) as object;
    if (schemaFile !== 'outputs-common.schema.json') ajv.addSchema(load('outputs-common.schema.json'));
    v = ajv.compile(load(schemaFile));
    cache.set(schemaFile, v);
  }
  return v;
}

/**
 * The problems of a CLI's JSON output against a schema file: [] when it is valid. `stdout` is the
 * text the CLI printed (one JSON document; for a stream of one JSON object per line, pass each line).
 * A test asserts `toEqual([])`, so a failure names each path and what was wrong there.
 */
export function schemaProblems(schemaFile: string, stdout: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch (e) {
    return [`not JSON: ${(e as Error).message}`];
  }
  const validate = outputValidator(schemaFile);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`);
}
