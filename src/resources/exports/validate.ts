import type { Diagnostic } from '../../errors.js';
import { diagnosticAt, type LoadedSpec } from '../../spec/load.js';
import type { ValidateOptions } from '../../spec/types.js';
import { familyOf, isKnownExportOption } from './parse.js';
import { exportPath } from './ids.js';

/**
 * `exports:` from the spec alone: each path once (`/srv/x` and `/srv/x/` are one export), clients
 * unless absent, options exportfs knows and that do not contradict each other; then the security
 * lint (warnings, errors with --strict).
 */
export function validate(spec: LoadedSpec, options: ValidateOptions): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Map<string, number>();
  (spec.value.exports ?? []).forEach((e, i) => {
    const path = exportPath(e.path);
    const first = seen.get(path);
    if (first !== undefined) {
      const line = diagnosticAt(spec, ['exports', first, 'path'], '').line;
      const same = spec.value.exports![first]!.path === e.path ? '' : `, as ${spec.value.exports![first]!.path}`;
      out.push(diagnosticAt(spec, ['exports', i, 'path'], `exports: ${e.path} is declared twice (here and at line ${line}${same})`));
    } else seen.set(path, i);
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
  return [...out, ...securityLint(spec, options)];
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
