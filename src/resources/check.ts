import { statSync } from 'node:fs';
import * as path from 'node:path';
import type { Diagnostic } from '../errors.js';
import { diagnosticAt, parseSpec, type LoadedSpec, type PathSegment } from '../spec/load.js';
import { describePath, schemaDiagnostics } from '../spec/schema.js';
import { plaintextSecretsInCommand } from '../spec/secrets.js';
import { isKnownExportOption, familyOf } from './exports/parse.js';
import { unitDiagnostics } from './units/verify.js';
import { exportClientProblem, exportOptionProblem, exportPathProblem } from './exports/parse.js';
import { fstabFieldProblem } from './mounts/fstab.js';
import { mountOptionProblem } from './mounts/options.js';
import { credentialsValueProblem } from './mounts/credentials.js';
import { hbaFieldProblem, type HbaField } from './postgres/hba.js';
import { conninfoHostProblem, conninfoValueProblem } from './postgres/conninfo.js';
import { confValueProblem } from './postgres/settings.js';
import { unitFileNameProblem } from './units/paths.js';

export const SUPPORTED_API_VERSION = 'reconcile/v1';

export interface ValidateOptions {
  /** The host's `/` for checks that read the host (tzdata). */
  root?: string;
  /** Security lint findings become errors. */
  strict?: boolean;
}

/**
 * The full check of a spec's text: YAML, schema, semantic rules, security lint. Loaded only when
 * the spec cache misses (src/resources/validate.ts), since it pulls in the YAML parser, the schema
 * validator and every kind's rules.
 */
export function check(text: string, file: string, options: ValidateOptions): { spec: LoadedSpec; diagnostics: Diagnostic[] } {
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
  // Semantic rules assume the schema's shape.
  if (!found.some((d) => d.severity === 'error')) found.push(...semanticRules(spec, options), ...valueFormatRules(spec), ...securityLint(spec, options));
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

function semanticRules(spec: LoadedSpec, options: ValidateOptions): Diagnostic[] {
  const out: Diagnostic[] = [];
  const v = spec.value;
  if (v.timezone !== undefined && !zoneExists(v.timezone, options.root)) {
    out.push(diagnosticAt(spec, ['timezone'], `timezone: "${v.timezone}" is not a zone known to tzdata (see /usr/share/zoneinfo, e.g. Europe/Berlin)`));
  }
  const seen = new Map<string, number>();
  (v.exports ?? []).forEach((e, i) => {
    const first = seen.get(e.path);
    if (first !== undefined) {
      const line = diagnosticAt(spec, ['exports', first, 'path'], '').line;
      out.push(diagnosticAt(spec, ['exports', i, 'path'], `exports: ${e.path} is declared twice (here and at line ${line})`));
    } else seen.set(e.path, i);
    if (e.state !== 'absent' && !e.clients) {
      out.push(diagnosticAt(spec, ['exports', i], `exports[${e.path}]: missing required key "clients" (only state: absent may omit it)`));
    }
    (e.clients ?? []).forEach((c, j) => {
      const families = new Map<string, string>();
      (c.options ?? []).forEach((o, k) => {
        const at = ['exports', i, 'clients', j, 'options', k];
        if (!isKnownExportOption(o)) {
          out.push(diagnosticAt(spec, at, `exports[${e.path}]: unknown export option "${o}" (see exports(5): rw, ro, sync, async, root_squash, all_squash, anonuid=N, sec=sys, ...)`));
          return;
        }
        const family = familyOf(o);
        const other = families.get(family);
        if (other !== undefined && other !== o) out.push(diagnosticAt(spec, at, `exports[${e.path}]: "${o}" contradicts "${other}" for client ${c.host}`));
        families.set(family, o);
      });
    });
  });
  out.push(...unitDiagnostics(spec));
  // Two hba entries for one (type, database, user, address) would rewrite each other's line forever.
  const hbaSeen = new Map<string, number>();
  (v.postgres?.hba ?? []).forEach((h, i) => {
    const key = JSON.stringify([h.type, h.database, h.user, h.type === 'local' ? '' : (h.address ?? 'all')]);
    const first = hbaSeen.get(key);
    if (first === undefined) hbaSeen.set(key, i);
    else {
      const line = diagnosticAt(spec, ['postgres', 'hba', first], '').line;
      out.push(diagnosticAt(spec, ['postgres', 'hba', i], `postgres.hba: ${h.type} ${h.database} ${h.user}${h.address ? ` ${h.address}` : ''} is declared twice (here and at line ${line})`));
    }
  });
  return out;
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

/** A zone is a regular file under the root's tzdata, or the running system's when the root has none. */
function zoneExists(zone: string, root = '/'): boolean {
  const dirs = [path.join(root, 'usr/share/zoneinfo'), '/usr/share/zoneinfo'];
  for (const dir of dirs) {
    try {
      statSync(dir);
    } catch {
      continue;
    }
    try {
      return statSync(path.join(dir, zone)).isFile();
    } catch {
      return false;
    }
  }
  return false;
}

/** Findings a reviewer should see; warnings unless --strict. */
function securityLint(spec: LoadedSpec, options: ValidateOptions): Diagnostic[] {
  const severity = options.strict ? 'error' : 'warning';
  const out: Diagnostic[] = [];
  (spec.value.exports ?? []).forEach((e, i) => {
    if (e.state === 'absent') return;
    (e.clients ?? []).forEach((c, j) => {
      const opts = c.options ?? [];
      const at = ['exports', i, 'clients', j];
      const rw = opts.includes('rw');
      if (rw && isWide(c.host)) out.push(diagnosticAt(spec, [...at, 'host'], `exports[${e.path}]: read-write to ${c.host === '*' ? 'every host (*)' : `the wide network ${c.host}`}`, severity));
      opts.forEach((o, k) => {
        if (o === 'no_root_squash') out.push(diagnosticAt(spec, [...at, 'options', k], `exports[${e.path}]: no_root_squash lets root on ${c.host} act as root on this host's files`, severity));
        if (o === 'insecure') out.push(diagnosticAt(spec, [...at, 'options', k], `exports[${e.path}]: insecure accepts requests from unprivileged ports on ${c.host}`, severity));
      });
    });
    const mode = e.directory?.mode;
    if (mode !== undefined && (parseInt(mode, 8) & 0o002) !== 0) {
      out.push(diagnosticAt(spec, ['exports', i, 'directory', 'mode'], `exports[${e.path}]: directory mode ${mode} is world-writable`, severity));
    }
  });
  return out;
}

/** `*`, wildcards, and networks shorter than /16 (IPv4) or /48 (IPv6). */
function isWide(host: string): boolean {
  if (host === '*' || host === '' || host.includes('*') || host.includes('?')) return true;
  const m = /\/(\d+)$/.exec(host);
  if (!m) return false;
  const bits = Number(m[1]);
  return host.includes(':') ? bits < 48 : bits < 16;
}
