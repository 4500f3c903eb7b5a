import { describeChar } from '../chars.js';

/**
 * Setting values as the spec writes them ("64MB", "on", 10) compared with pg_settings, which holds
 * them in the setting's base unit ("65536" with unit "kB"). Pure.
 */
export interface ServerSetting {
  /** pg_settings.setting: the running value, in `unit`. */
  setting: string | null;
  unit: string | null;
  vartype: string;
  context: string;
  pending: boolean;
  /** current_setting(): the value with a human unit, for display. */
  display?: string | null;
}

const MEMORY: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const TIME: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

function unitFactor(unit: string): { factor: number; table: Record<string, number> } | null {
  const m = /^(\d*)\s*([a-zA-Z]+)$/.exec(unit);
  if (!m) return null;
  const n = m[1] ? Number(m[1]) : 1;
  for (const table of [MEMORY, TIME]) if (m[2]! in table) return { factor: n * table[m[2]!]!, table };
  return null;
}

const TRUE = new Set(['on', 'true', 'yes', '1', 't', 'y']);
const FALSE = new Set(['off', 'false', 'no', '0', 'f', 'n']);

/** The spec's value in the server's terms; undefined when it cannot be read as this setting's type. */
export function normalizeValue(want: string | number | boolean, s: Pick<ServerSetting, 'unit' | 'vartype'>): string | undefined {
  const text = String(want).trim();
  switch (s.vartype) {
    case 'bool': {
      const l = text.toLowerCase();
      return TRUE.has(l) ? 'on' : FALSE.has(l) ? 'off' : undefined;
    }
    case 'integer':
    case 'real': {
      const m = /^(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text);
      if (!m) return undefined;
      let n = Number(m[1]);
      if (m[2]) {
        const server = s.unit ? unitFactor(s.unit) : null;
        const given = server && m[2] in server.table ? server.table[m[2]]! : undefined;
        if (!server || given === undefined) return undefined;
        n = (n * given) / server.factor;
      }
      return s.vartype === 'integer' ? String(Math.round(n)) : String(n);
    }
    case 'enum':
      return text.toLowerCase();
    default:
      return text;
  }
}

export function sameValue(want: string | number | boolean, s: ServerSetting): boolean {
  if (s.setting === null) return false;
  const norm = normalizeValue(want, s);
  if (norm === undefined) return false;
  if (s.vartype === 'real') return Math.abs(Number(norm) - Number(s.setting)) < 1e-9;
  if (s.vartype === 'enum') return norm === s.setting.toLowerCase();
  return norm === s.setting;
}

/** Settings whose new value takes a server restart to apply. */
export function needsRestart(s: ServerSetting | undefined): boolean {
  return !!s && (s.context === 'postmaster' || s.pending);
}

/**
 * wal_keep_size (13+) and wal_keep_segments (12) say the same thing: the spec may use either and
 * the server gets the one it knows. Segments are 16MB unless the cluster says otherwise.
 */
export function settingsForVersion(settings: Record<string, string | number | boolean>, version: number, segmentBytes = 16 * 1024 ** 2): Record<string, string | number | boolean> {
  const out = { ...settings };
  const mb = segmentBytes / 1024 ** 2;
  if (version >= 130000 && 'wal_keep_segments' in out) {
    out.wal_keep_size = `${Number(out.wal_keep_segments) * mb}MB`;
    delete out.wal_keep_segments;
  } else if (version < 130000 && 'wal_keep_size' in out) {
    const bytes = Number(normalizeValue(out.wal_keep_size!, { unit: 'B', vartype: 'integer' }) ?? 0);
    out.wal_keep_segments = Math.ceil(bytes / segmentBytes);
    delete out.wal_keep_size;
  }
  return out;
}

/** A SQL string literal (standard_conforming_strings is on since 9.1). */
export function sqlLiteral(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}

export function sqlIdent(v: string): string {
  return `"${v.replace(/"/g, '""')}"`;
}

/**
 * Why a value cannot be a setting in postgresql.conf syntax (ALTER SYSTEM or postgresql.auto.conf),
 * or null when it can: confLiteral quotes and escapes anything, but a quoted value ends at its
 * line (ALTER SYSTEM refuses line breaks) and at NUL.
 */
export function confValueProblem(value: string): string | null {
  const bad = /[\0\n\r]/.exec(value);
  return bad ? `holds ${describeChar(bad[0])}; a PostgreSQL setting is one line of text without NUL` : null;
}

/** A quoted value in postgresql.conf syntax (backslash escapes are read there). */
export function confLiteral(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * postgresql.auto.conf with `set` applied: an existing line for a name is replaced in place,
 * new names are appended; other lines are kept as they are. Used on a stopped standby right
 * after its base backup, where ALTER SYSTEM cannot run yet.
 */
export function mergeAutoConf(text: string, set: Record<string, string>): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const done = new Set<string>();
  const out: string[] = [];
  for (const l of lines) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=?/.exec(l);
    const name = m?.[1]?.toLowerCase();
    if (name && name in set) {
      if (!done.has(name)) out.push(`${name} = ${confLiteral(set[name]!)}`);
      done.add(name);
      continue;
    }
    out.push(l);
  }
  for (const [name, value] of Object.entries(set)) if (!done.has(name)) out.push(`${name} = ${confLiteral(value)}`);
  return `${out.join('\n')}\n`;
}
