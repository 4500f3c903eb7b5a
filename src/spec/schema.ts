import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { besideModule } from '../package-root.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Diagnostic } from '../errors.js';
import { diagnosticAt, type LoadedSpec, type PathSegment } from './load.js';

import { SCHEMA_URL } from './schema-url.js';
import { editDistance } from '../distance.js';

export { SCHEMA_URL };
/** Written by scripts/build-schema-validator.mjs next to the compiled code. */
const PRECOMPILED_URL = pathToFileURL(besideModule('spec', 'schema-validator.js'));

/**
 * The built CLI loads the validator ajv compiled at build time (no ajv at run time); running from
 * source (tests), ajv compiles the same schema with the same options.
 */
const validate: ValidateFunction = existsSync(PRECOMPILED_URL)
  ? ((await import(PRECOMPILED_URL.href)) as { default: ValidateFunction }).default
  : await compileWithAjv();

async function compileWithAjv(): Promise<ValidateFunction> {
  const { Ajv } = await import('ajv');
  const schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as Record<string, unknown>;
  return new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true }).compile(schema);
}

/** What a pattern or `not` rule of a schema definition means, said to a human. */
const DEFINITION_MEANING: Record<string, string> = {
  absolutePath: 'an absolute path without ".", ".." or empty segments',
  duration: 'a duration such as 500ms, 10s, 2m or 1h30m',
  mode: 'an octal mode as a string, such as "0755"',
  principal: 'a user or group name, or a numeric id',
  secretRef: 'a secret reference {env: NAME} or {file: /absolute/path}',
  address: 'an IPv4 or IPv6 address, optionally with /nn',
  fleetRef: 'a fleet reference {fleet: HOST} or {fleet: group:NAME}',
  fleetHostRef: 'a fleet reference {fleet: HOST}',
  fleetPathRef: 'a fleet reference {fleet: HOST, path: /absolute/path}',
};

const PROPERTY_MEANING: Record<string, string> = {
  host: 'a host name',
  timezone: 'a time zone name such as Europe/Berlin',
  apiVersion: 'an API version such as reconcile/v1',
  options: 'a single option (no commas or blanks), such as rw or size=64m',
  minVersion: 'a reconcile version such as 0.4.0',
};

/**
 * The meaning of every other pattern of the host schema, by the schema node that holds it (its
 * path without `#/` and the keyword): a property name alone is ambiguous (`name` of a unit, a
 * role, a migrations entry). src/spec/schema.test.ts fails when a pattern has no meaning here.
 */
export const NODE_MEANING: Record<string, string> = {
  'properties/mounts/items/properties/source': 'a mount source that is not empty',
  'properties/mounts/items/properties/type': 'a filesystem type such as ext4, nfs or cifs',
  'properties/units/items/properties/name': 'a unit name such as app.service or backup@.timer',
  'properties/units/items/properties/dropins': 'a drop-in file name ending in .conf, such as 10-limits.conf',
  'properties/postgres/properties/instance/oneOf/0/properties/cluster': 'a cluster name such as main',
  'properties/postgres/properties/instance/oneOf/1/properties/osUser': 'a system user name such as postgres',
  'properties/postgres/properties/settings': 'a setting name such as work_mem',
  'properties/postgres/properties/users/items/properties/name': 'a role name (letters, digits, _, $ and -, not starting with a digit)',
  'properties/postgres/properties/slots/items': 'a slot name of lower-case letters, digits and _',
  'properties/postgres/properties/primary/properties/slot': 'a slot name of lower-case letters, digits and _',
  'properties/migrations/items/properties/name': 'a name of letters, digits, _, . and -',
  'properties/migrations/items/properties/target': 'head or a migration version number',
  'properties/migrations/items/properties/stamp': 'a migration version number',
  'properties/migrations/items/properties/retry': 'a migration version number',
  'properties/migrations/items/properties/server': 'a fleet host name such as db1',
  'properties/migrations/items/properties/dbname': 'a database name (letters, digits, _, $ and -, not starting with a digit)',
  'properties/ignoreDrift/items/properties/until': 'a date such as 2026-12-31',
  'definitions/secretRef/oneOf/0/properties/env': 'an environment variable name',
  'definitions/secretRef/oneOf/1/properties/file': 'an absolute path',
  'definitions/principal/oneOf/0': 'a user or group name',
  'definitions/export/properties/clients/items/properties/host': 'an export client (a host, network, wildcard or @netgroup, without blanks, #, quotes or parentheses)',
  'definitions/export/properties/clients/items/properties/options/items': 'an export option such as rw or anonuid=65534',
};

/** The schema node an error's keyword stands on: `#/a/b/pattern` -> `a/b` (propertyNames too). */
export function schemaNode(schemaPath: string): string {
  return schemaPath.replace(/^#\//, '').replace(/\/(pattern|not|propertyNames\/pattern)$/, '');
}

/** Validates against schemas/host-spec.schema.json; every error points at the offending node. */
export function schemaDiagnostics(spec: LoadedSpec): Diagnostic[] {
  return schemaDiagnosticsWith(validate, spec);
}

/** The same, against another compiled schema (the fleet's inventory and fragments: src/fleet/schema.ts). */
export function schemaDiagnosticsWith(validate: ValidateFunction, spec: LoadedSpec): Diagnostic[] {
  if (validate(spec.value)) return [];
  const errors = pruneErrors(validate.errors ?? []);
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const err of errors) {
    const path = pointerToPath(err.instancePath);
    const d = describe(spec, err, path);
    const key = `${d.line}:${d.col}:${d.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(d);
    }
  }
  return out.sort((a, b) => a.line - b.line || a.col - b.col);
}

/** oneOf reports every branch's complaint; keep only the oneOf itself, and one error per node. */
function pruneErrors(errors: ErrorObject[]): ErrorObject[] {
  const oneOfAt = errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath);
  const kept = errors.filter(
    (e) => e.keyword === 'oneOf' || !oneOfAt.some((p) => e.schemaPath.includes('/oneOf/') && e.instancePath.startsWith(p)),
  );
  const byNode = new Map<string, ErrorObject>();
  for (const e of kept) {
    const key = e.keyword === 'additionalProperties' ? `${e.instancePath}#${String(e.params.additionalProperty)}` : e.instancePath;
    // `not` and `pattern` on one node say the same thing; prefer the first.
    if (!byNode.has(key)) byNode.set(key, e);
  }
  return [...byNode.values()];
}

function pointerToPath(pointer: string): PathSegment[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function describe(spec: LoadedSpec, err: ErrorObject, path: PathSegment[]): Diagnostic {
  const where = path.length ? describePath(spec.value, path) : 'spec';
  const name = String(path.filter((s) => typeof s === 'string').at(-1) ?? '');
  // A name checked by propertyNames is the name, not the whole map (a drop-in's content stays out of the message).
  const data = err.propertyName !== undefined ? err.propertyName : valueAt(spec.value, path);
  const definition = /#\/definitions\/(\w+)/.exec(err.schemaPath)?.[1];
  if (definition === 'secretRef' && (typeof data === 'string' || typeof data === 'number')) {
    return diagnosticAt(spec, path, `${where}: a plaintext secret is not allowed; use {env: NAME} or {file: /path}`);
  }
  switch (err.keyword) {
    case 'additionalProperties': {
      const key = String(err.params.additionalProperty);
      const allowed = Object.keys((err.parentSchema as { properties?: object })?.properties ?? {});
      const guess = allowed.find((a) => editDistance(a, key) <= 2);
      const hint = guess ? ` (did you mean "${guess}"?)` : allowed.length ? ` (expected one of: ${allowed.join(', ')})` : '';
      return diagnosticAt(spec, [...path, key], `unknown key "${key}" in ${where}${hint}`, 'error', { key: true });
    }
    case 'required':
      return diagnosticAt(spec, path, `${where}: missing required key "${String(err.params.missingProperty)}"`);
    case 'type':
      return diagnosticAt(spec, path, `${where}: expected ${String(err.params.type)}, got ${typeName(data)}${typeHint(spec, path, String(err.params.type), data, definition ?? name)}`);
    case 'enum':
      return diagnosticAt(spec, path, `${where}: expected one of ${(err.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(data)}`);
    case 'oneOf':
      return diagnosticAt(spec, path, `${where}: expected ${DEFINITION_MEANING[definition ?? ''] ?? 'one of the allowed forms'}, got ${JSON.stringify(data)}`);
    case 'pattern':
    case 'not': {
      if (typeof data === 'string' && /^(password2?|pass)=|^(user|username)=[^%]*%./.test(data)) {
        // Never quote it: the value is the secret. `user=NAME%PASSWORD` is mount.cifs's other form.
        const form = /^user/.test(data) ? ' (the user%password form)' : '';
        return diagnosticAt(spec, path, `${where}: a plaintext password is not allowed in options${form}; use credentials: {username, password: {env: NAME}}`);
      }
      const meaning = NODE_MEANING[schemaNode(err.schemaPath)] ?? DEFINITION_MEANING[definition ?? ''] ?? PROPERTY_MEANING[name] ?? `a value matching ${String(err.params.pattern ?? 'the schema')}`;
      return diagnosticAt(spec, path, `${where}: ${JSON.stringify(data)} is not ${meaning}`);
    }
    case 'minItems':
      return diagnosticAt(spec, path, `${where}: needs at least ${String(err.params.limit)} item${err.params.limit === 1 ? '' : 's'}`);
    case 'minimum':
    case 'maximum':
      return diagnosticAt(spec, path, `${where}: ${JSON.stringify(data)} is ${err.keyword === 'minimum' ? 'below the minimum' : 'above the maximum'} ${String(err.params.limit)}`);
    default:
      return diagnosticAt(spec, path, `${where}: ${err.message ?? 'invalid'}`);
  }
}

/**
 * What the user meant, for the two ways YAML reads a value otherwise than written: `mode: 0755`
 * unquoted is a number (755, or 493 under YAML 1.1's octal), `enabled: yes` is the string "yes".
 */
function typeHint(spec: LoadedSpec, path: PathSegment[], expected: string, data: unknown, what: string): string {
  if (expected.includes('boolean') && typeof data === 'string') {
    if (/^(yes|y|on|true)$/i.test(data)) return `; write true (YAML reads ${data} as the string "${data}" here)`;
    if (/^(no|n|off|false)$/i.test(data)) return `; write false (YAML reads ${data} as the string "${data}" here)`;
  }
  if (what === 'mode' && expected.includes('string') && typeof data === 'number') {
    const raw = sourceText(spec, path);
    const octal = raw !== undefined && /^0?[0-7]{3,4}$/.test(raw) ? raw.padStart(4, '0') : `0${data.toString(8)}`;
    return `; write ${String(path.at(-1))}: "${octal}" in quotes (unquoted, ${raw ?? data} is read as the number ${data})`;
  }
  return '';
}

/** The value at `path` as written in the file. */
function sourceText(spec: LoadedSpec, path: PathSegment[]): string | undefined {
  const node = spec.doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  return node?.range ? spec.text.slice(node.range[0], node.range[1]) : undefined;
}

function valueAt(value: unknown, path: PathSegment[]): unknown {
  let v = value;
  for (const s of path) v = (v as Record<string, unknown> | undefined)?.[s as string];
  return v;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** `exports[/data/share].clients[0]`: list items named by their path or name when they have one. */
export function describePath(value: unknown, path: PathSegment[]): string {
  let out = '';
  let v = value;
  for (const seg of path) {
    const next = (v as Record<string, unknown> | undefined)?.[seg as string];
    if (typeof seg === 'number') {
      const id = (next as { path?: unknown; name?: unknown } | undefined)?.path ?? (next as { name?: unknown } | undefined)?.name;
      // A hostile name is shown escaped: a message never carries a raw control character.
      out += typeof id === 'string' ? `[${id.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}]` : `[${seg}]`;
    } else {
      out += out ? `.${seg}` : seg;
    }
    v = next;
  }
  return out;
}
