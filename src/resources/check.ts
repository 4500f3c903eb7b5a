import type { Diagnostic } from '../errors.js';
import { diagnosticAt, parseSpec, type LoadedSpec, type PathSegment } from '../spec/load.js';
import { describePath, schemaDiagnostics } from '../spec/schema.js';
import { plaintextSecretsInCommand } from '../spec/secrets.js';
import { exportClientProblem, exportOptionProblem, exportPathProblem } from './exports/parse.js';
import { fstabFieldProblem } from './mounts/fstab.js';
import { mountOptionProblem } from './mounts/options.js';
import { credentialsValueProblem } from './mounts/credentials.js';
import { hbaFieldProblem, type HbaField } from './postgres/hba.js';
import { conninfoHostProblem, conninfoValueProblem } from './postgres/conninfo.js';
import { confValueProblem } from './postgres/settings.js';
import { unitFileNameProblem } from './units/paths.js';
import { KIND_ENTRIES, kindsInSpec } from './registry.js';
import type { KindValidate } from './types.js';
import { durationTooLong } from '../duration.js';
import type { ValidateOptions } from '../spec/types.js';

export type { ValidateOptions } from '../spec/types.js';

export const SUPPORTED_API_VERSION = 'reconcile/v1';

/** Every kind's validate, loaded with the checker, which itself is loaded only on a spec-cache miss. */
const VALIDATES = new Map<string, KindValidate>(await Promise.all(KIND_ENTRIES.map(async (k) => [k.name, await k.validate()] as const)));

/**
 * The full check of a spec's text: YAML, schema, the rules of each kind the spec uses (its
 * `validate`, security lint included), and what belongs to no kind. Loaded only when the spec
 * cache misses (src/resources/validate.ts), since it pulls in the YAML parser, the schema validator
 * and the kinds' rules; only the kinds the spec names are run.
 */
export async function check(text: string, file: string, options: ValidateOptions): Promise<{ spec: LoadedSpec; diagnostics: Diagnostic[] }> {
  const { spec, diagnostics } = parseSpec(text, file);
  if (diagnostics.some((d) => d.severity === 'error')) return { spec, diagnostics };
  return { spec, diagnostics: [...diagnostics, ...checkLoaded(spec, options)].sort((a, b) => a.line - b.line || a.col - b.col) };
}

/** The checks after parsing, on a spec already loaded (a fleet host's merged spec: src/fleet/check.ts). */
export function checkLoaded(spec: LoadedSpec, options: ValidateOptions): Diagnostic[] {
  if (spec.value === null || typeof spec.value !== 'object' || Array.isArray(spec.value)) {
    return [diagnosticAt(spec, [], 'a host spec is a YAML map with at least a "host" key')];
  }
  const apiVersion = spec.value.apiVersion;
  if (typeof apiVersion === 'string' && apiVersion !== SUPPORTED_API_VERSION && /^reconcile\/v\d+$/.test(apiVersion)) {
    return [diagnosticAt(spec, ['apiVersion'], `apiVersion ${apiVersion} is not supported by this reconcile, which reads ${SUPPORTED_API_VERSION}`)];
  }
  const found = [...plaintextSecrets(spec), ...schemaDiagnostics(spec)];
  // The kinds' rules assume the schema's shape.
  if (!found.some((d) => d.severity === 'error')) {
    const kinds = kindsInSpec(spec.value).map((k) => VALIDATES.get(k.name)!);
    found.push(...durations(spec), ...valueFormatRules(spec), ...kinds.flatMap((k) => k.validate(spec, options)));
  }
  return found;
}

const SECRET_KEY = /^(password|passwd|passphrase|secret|token|api_?key|private_?key)$/i;

/** A secret written into the spec is refused wherever it stands, whatever the schema says. */
function plaintextSecrets(spec: LoadedSpec): Diagnostic[] {
  const out: Diagnostic[] = [];
  const walk = (v: unknown, at: PathSegment[]) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...at, i]));
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (SECRET_KEY.test(k) && (typeof x === 'string' || typeof x === 'number')) {
          out.push(diagnosticAt(spec, [...at, k], `${describePath(spec.value, [...at, k])}: a plaintext secret is not allowed; use {env: NAME} or {file: /path}`));
        } else walk(x, [...at, k]);
      }
    } else if (typeof v === 'string' && /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i.test(v)) {
      out.push(diagnosticAt(spec, at, `${describePath(spec.value, at)}: a URL with a password is a plaintext secret; use {env: NAME} or {file: /path}`));
    }
  };
  walk(spec.value, []);
  // Command lines and connection strings PostgreSQL keeps in its settings (primary_conninfo,
  // archive_command with PGPASSWORD=…): the key is harmless, the text holds the secret.
  const pg = spec.value.postgres;
  const inCommand = (at: PathSegment[], text: unknown) => {
    if (typeof text !== 'string') return;
    const names = plaintextSecretsInCommand(text);
    if (names.length) {
      out.push(diagnosticAt(spec, at, `${describePath(spec.value, at)}: ${names.join(', ')} puts a plaintext secret in the spec; PostgreSQL's tools read passwords from a .pgpass file (PGPASSFILE), and primary.password takes {env: NAME} or {file: /path}`));
    }
  };
  if (pg && typeof pg === 'object') {
    for (const [name, value] of Object.entries(pg.settings ?? {})) inCommand(['postgres', 'settings', name], value);
    inCommand(['postgres', 'restoreCommand'], pg.restoreCommand);
  }
  return out;
}

/** Durations the spec gives reconcile itself: each must fit a Node timer (src/duration.ts). */
function durations(spec: LoadedSpec): Diagnostic[] {
  const v = spec.value;
  const found: [PathSegment[], string | undefined][] = [
    [['watchdog', 'stepTimeout'], v.watchdog?.stepTimeout],
    [['lock', 'ttl'], v.lock?.ttl],
    [['lock', 'wait'], v.lock?.wait],
  ];
  return found.flatMap(([at, text]) => {
    const why = text === undefined ? null : durationTooLong(text);
    return why ? [diagnosticAt(spec, at, `${at.join('.')}: ${why}`)] : [];
  });
}

/**
 * Every value that lands in a line-oriented file or an argv holds only what that format can hold.
 * What each format can hold is said by a pure function next to the format's parser and writer;
 * this only walks the spec and places their findings.
 */
function valueFormatRules(spec: LoadedSpec): Diagnostic[] {
  const out: Diagnostic[] = [];
  const v = spec.value;
  const check = (at: PathSegment[], problem: string | null, key = false) => {
    if (problem) out.push(diagnosticAt(spec, at, `${describePath(v, at)}: the ${key ? 'name' : 'value'} ${problem}`, 'error', { key }));
  };
  (v.mounts ?? []).forEach((m, i) => {
    check(['mounts', i, 'source'], fstabFieldProblem(m.source));
    check(['mounts', i, 'path'], fstabFieldProblem(m.path));
    const options = m.options ?? [];
    options.forEach((o, k) => check(['mounts', i, 'options', k], mountOptionProblem(o)));
    if (options.length && options.every((o) => !mountOptionProblem(o))) check(['mounts', i, 'options'], fstabFieldProblem(options.join(',')));
    if (m.credentials) {
      check(['mounts', i, 'credentials', 'username'], credentialsValueProblem('username', m.credentials.username));
      if (m.credentials.domain !== undefined) check(['mounts', i, 'credentials', 'domain'], credentialsValueProblem('domain', m.credentials.domain));
    }
  });
  (v.exports ?? []).forEach((e, i) => {
    check(['exports', i, 'path'], exportPathProblem(e.path));
    (e.clients ?? []).forEach((c, j) => {
      check(['exports', i, 'clients', j, 'host'], exportClientProblem(c.host));
      (c.options ?? []).forEach((o, k) => check(['exports', i, 'clients', j, 'options', k], exportOptionProblem(o)));
    });
  });
  const pg = v.postgres;
  (pg?.hba ?? []).forEach((h, i) => {
    for (const field of ['database', 'user', 'address', 'options'] as HbaField[]) {
      if (h[field] !== undefined) check(['postgres', 'hba', i, field], hbaFieldProblem(field, h[field]!));
    }
  });
  if (pg?.primary) {
    check(['postgres', 'primary', 'host'], conninfoHostProblem(pg.primary.host));
    check(['postgres', 'primary', 'user'], conninfoValueProblem(pg.primary.user));
  }
  for (const [name, value] of Object.entries(pg?.settings ?? {})) {
    if (typeof value === 'string') check(['postgres', 'settings', name], confValueProblem(value));
  }
  if (pg?.restoreCommand !== undefined) check(['postgres', 'restoreCommand'], confValueProblem(pg.restoreCommand));
  (v.units ?? []).forEach((u, i) => {
    check(['units', i, 'name'], unitFileNameProblem('unit name', u.name));
    for (const file of Object.keys(u.dropins ?? {})) check(['units', i, 'dropins', file], unitFileNameProblem('drop-in name', file), true);
  });
  return out;
}
