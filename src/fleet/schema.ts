import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { besideModule, PACKAGE_ROOT } from '../package-root.js';
import type { ValidateFunction } from 'ajv';
import type { Diagnostic } from '../errors.js';
import type { LoadedSpec } from '../spec/load.js';
import { schemaDiagnosticsWith } from '../spec/schema.js';

/**
 * fleet.yaml (schemas/fleet.schema.json) and fragments (schemas/fragment.schema.json), checked as
 * src/spec/schema.ts checks host specs: the validators scripts/build-schema-validator.mjs compiled,
 * or ajv on the schema files when running from source (tests).
 */
async function validator(compiled: string, schemaFile: string): Promise<ValidateFunction> {
  const url = pathToFileURL(besideModule('fleet', compiled));
  if (existsSync(url)) return ((await import(url.href)) as { default: ValidateFunction }).default;
  const { Ajv } = await import('ajv');
  const schemas = path.join(PACKAGE_ROOT, 'schemas');
  let schema = JSON.parse(readFileSync(path.join(schemas, schemaFile), 'utf8')) as Record<string, unknown>;
  if (schemaFile === 'fragment.schema.json') {
    // From source, derive it as the build does, so a test never reads a stale copy.
    const { fragmentSchema } = (await import(pathToFileURL(path.join(PACKAGE_ROOT, 'scripts', 'fragment-schema.mjs')).href)) as { fragmentSchema: (s: unknown) => Record<string, unknown> };
    schema = fragmentSchema(JSON.parse(readFileSync(path.join(schemas, 'host-spec.schema.json'), 'utf8')));
  }
  return new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true }).compile(schema);
}

const fleetValidate = await validator('fleet-validator.js', 'fleet.schema.json');
const fragmentValidate = await validator('fragment-validator.js', 'fragment.schema.json');

export const fleetSchemaDiagnostics = (file: LoadedSpec): Diagnostic[] => schemaDiagnosticsWith(fleetValidate, file);
export const fragmentSchemaDiagnostics = (file: LoadedSpec): Diagnostic[] => schemaDiagnosticsWith(fragmentValidate, file);
