import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { REPO } from './cli.js';

const SCHEMAS = path.join(REPO, 'schemas');
const cache = new Map<string, ValidateFunction>();

/**
 * A validator for one schema file of schemas/ (e.g. 'plan.schema.json'), strict like the product's
 * own, with every schema it refers to by $id (outputs-common.schema.json's definitions) loaded.
 */
export function outputValidator(schemaFile: string): ValidateFunction {
  let v = cache.get(schemaFile);
  if (!v) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    const text = (f: string) => readFileSync(path.join(SCHEMAS, f), 'utf8');
    // The schemas it refers to by $id (https://reconcile.dev/schemas/NAME), and theirs.
    const added = new Set([schemaFile]);
    const refer = (f: string) => {
      for (const [, name] of text(f).matchAll(/"https:\/\/reconcile\.dev\/schemas\/([\w.-]+\.schema\.json)#/g)) {
        if (added.has(name!)) continue;
        added.add(name!);
        ajv.addSchema(JSON.parse(text(name!)) as object);
        refer(name!);
      }
    };
    refer(schemaFile);
    v = ajv.compile(JSON.parse(text(schemaFile)) as object);
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
