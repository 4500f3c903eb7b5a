import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { describeChar } from '../chars.js';

/**
 * pg_hba.conf, losslessly: a list of lines that keep their exact bytes. Only the rules reconcile
 * manages are re-rendered; every other line (comments, blank lines, hand-written rules, odd
 * spacing) is written back byte for byte.
 */
export interface HbaRule {
  type: string;
  database: string;
  user: string;
  /** host* rules only: a CIDR, a name, `all`, `samehost`, `samenet`; with `mask` when given as address + netmask. */
  address?: string;
  mask?: string;
  method: string;
  /** auth-options (`key=value ...`), blank-joined; '' when none. */
  options: string;
}

export interface HbaLine {
  /**
   * Exact bytes including the newline when there is one. A record continued with a trailing
   * backslash (PostgreSQL 16+) is one HbaLine holding all its physical lines, so a rewrite
   * replaces the whole record and never leaves a dangling continuation line behind.
   */
  raw: string;
  /** The record's first physical line (1-based). */
  line: number;
  rule?: HbaRule;
}

export interface HbaParseOptions {
  /**
   * A line ending in `\` continues on the next one (PostgreSQL 16 and later; 15 and earlier read
   * the backslash as part of the last token). Default true.
   */
  continuation?: boolean;
}

/**
 * Physical lines grouped into records as PostgreSQL's tokenize_auth_file does: the line end
 * (\n, or \r\n) is stripped, then a backslash that is the line's last character is dropped and
 * the next line appended directly (no blank inserted), also inside a comment.
 */
export function parseHba(text: string, options: HbaParseOptions = {}): HbaLine[] {
  const continuation = options.continuation ?? true;
  const out: HbaLine[] = [];
  let pos = 0;
  let n = 1;
  while (pos < text.length) {
    const first = n;
    let logical = '';
    let end = pos;
    for (;;) {
      const nl = text.indexOf('\n', end);
      const next = nl === -1 ? text.length : nl + 1;
      const content = text.slice(end, next).replace(/\r?\n$/, '');
      end = next;
      n++;
      if (continuation && content.endsWith('\\') && end < text.length) {
        logical += content.slice(0, -1);
        continue;
      }
      logical += continuation && content.endsWith('\\') ? content.slice(0, -1) : content;
      break;
    }
    const raw = text.slice(pos, end);
    const rule = parseRule(logical);
    out.push(rule ? { raw, line: first, rule } : { raw, line: first });
    pos = end;
  }
  return out;
}

const isBlank = (c: string) => c === ' ' || c === '\t' || c === '\r';

/**
 * The fields of a record, as PostgreSQL's next_field_expand/next_token read them: a field is a
 * comma-separated list of tokens, where blanks may follow a comma (`db1, db2` is one field of two
 * tokens) but end the field before one (`db1 ,db2` is two fields); `"..."` quotes blanks, commas
 * and `#` (a doubled `""` is a quote character); `#` outside quotes starts a comment. Each token
 * is kept in its source form, quotes included, so a field reads back as `db1,db2`.
 */
export function hbaFields(line: string): string[][] {
  const fields: string[][] = [];
  let i = 0;
  let field: string[] = [];
  let comment = false;
  while (i < line.length && !comment) {
    // Blanks and commas before a token; a comma here belongs to the list in progress.
    while (i < line.length && (isBlank(line[i]!) || line[i] === ',')) i++;
    if (i >= line.length) break;
    if (line[i] === '#') break;
    const start = i;
    let inQuote = false;
    let trailingComma = false;
    while (i < line.length && (inQuote || !isBlank(line[i]!))) {
      const c = line[i]!;
      if (c === '#' && !inQuote) {
        comment = true;
        break;
      }
      if (c === ',' && !inQuote) {
        trailingComma = true;
        break;
      }
      if (c === '"') inQuote = !inQuote;
      i++;
    }
    const token = line.slice(start, i);
    if (trailingComma) i++;
    if (token !== '') field.push(token);
    if (!trailingComma && field.length) {
      fields.push(field);
      field = [];
    }
  }
  if (field.length) fields.push(field);
  return fields;
}

/** A database or user field as written in the spec, in the form the file reads back (`db1, db2` -> `db1,db2`). */
export function normaliseField(value: string): string {
  const fields = hbaFields(value);
  return fields.length === 1 ? fields[0]!.join(',') : value;
}

const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/;

function parseRule(line: string): HbaRule | undefined {
  const t = hbaFields(line).map((f) => f.join(','));
  if (t.length < 4) return undefined;
  const [type, database, user] = t as [string, string, string];
  if (t[0]!.startsWith('include')) return undefined;
  if (type === 'local') return { type, database, user, method: t[3]!, options: t.slice(4).join(' ') };
  let i = 3;
  const address = t[i++]!;
  let mask: string | undefined;
  if (IP.test(address) && t[i] !== undefined && IP.test(t[i]!)) mask = t[i++];
  const method = t[i++];
  if (method === undefined) return undefined;
  return { type, database, user, address, ...(mask ? { mask } : {}), method, options: t.slice(i).join(' ') };
}

export type HbaField = 'database' | 'user' | 'address' | 'options';

const HBA_FIELD_HOLDS: Record<HbaField, string> = {
  database: 'a pg_hba.conf database field is one field (a name, a comma list, +group, @file or /regex), with blanks only inside double quotes or after a comma, and # only inside double quotes',
  user: 'a pg_hba.conf user field is one field (a name, a comma list, +group, @file or /regex), with blanks only inside double quotes or after a comma, and # only inside double quotes',
  address: 'a pg_hba.conf address is one token (a CIDR, a host name, all, samehost or samenet) or an IP address and its netmask',
  options: 'pg_hba.conf auth options are name=value pairs on one line, with blanks and # only inside double quotes, not ending in a backslash',
};

/**
 * Why a spec value cannot be written as this field of a rule, or null when it can: what
 * renderRule writes must read back (parseRule) as the same field, and nothing of it may spill
 * into the next field, a comment, or (PostgreSQL 16's trailing backslash) the next line.
 */
export function hbaFieldProblem(field: HbaField, value: string): string | null {
  const what = HBA_FIELD_HOLDS[field];
  const control = /[\x00-\x1f\x7f]/.exec(value);
  if (control) return `holds ${describeChar(control[0])}; ${what}`;
  let quoted = false;
  for (const c of value) {
    if (c === '"') quoted = !quoted;
    else if (c === '#' && !quoted) return `holds "#" outside double quotes (the rest of the line would be a comment); ${what}`;
  }
  if (quoted) return `has an unbalanced double quote; ${what}`;
  if (field === 'options') return /\\\s*$/.test(value) ? `ends in a backslash (PostgreSQL would join the next line); ${what}` : null;
  if (value === '') return `is empty; ${what}`;
  // One field as PostgreSQL reads it (blanks may follow a comma of a list: `db1, db2`).
  // Database and user compare in that read-back form (normaliseField); an address compares as written.
  const t = hbaFields(value).map((f) => f.join(','));
  if (field !== 'address' && t.length === 1) return null;
  if (field === 'address' && t.length === 1) return t[0] === value ? null : `has blanks around it; ${what}`;
  if (field === 'address' && t.length === 2 && t.join(' ') === value && IP.test(t[0]!) && IP.test(t[1]!)) return null;
  return `is more than one field (blanks outside double quotes, not after a comma); ${what}`;
}

/** The connection a rule is about: rules with the same key are the same entry (method and options may differ). */
export function ruleKey(r: Pick<HbaRule, 'type' | 'database' | 'user' | 'address' | 'mask'>): string {
  return [r.type, normaliseField(r.database), normaliseField(r.user), r.address ?? '', r.mask ?? ''].join(' ').trim();
}

/** One rule in the column layout of PostgreSQL's sample file. */
export function renderRule(r: HbaRule): string {
  const col = (s: string, w: number) => (s.length >= w ? `${s} ` : s.padEnd(w));
  const addr = r.type === 'local' ? '' : col([r.address ?? '', r.mask ?? ''].filter(Boolean).join(' '), 24);
  return `${col(r.type, 8)}${col(normaliseField(r.database), 16)}${col(normaliseField(r.user), 16)}${addr}${r.method}${r.options ? ` ${r.options}` : ''}`;
}

export function sameRule(a: HbaRule, b: HbaRule): boolean {
  return ruleKey(a) === ruleKey(b) && a.method === b.method && a.options.split(/\s+/).filter(Boolean).join(' ') === b.options.split(/\s+/).filter(Boolean).join(' ');
}

/**
 * The file with every wanted rule present, in the spec's order: a rule whose key exists is
 * rewritten in place (its first line; later duplicates of the key are left alone, since the first
 * match wins); a new rule goes before the first existing rule (and the comments right above it),
 * so the spec's entries are not shadowed by broader hand-written ones. Then the managed rules are
 * put in the spec's order among the lines they hold (DESIGN §8.2 rule 5: first match wins, so the
 * order is part of what the spec says); hand-written lines keep their places.
 */
export function applyRules(lines: HbaLine[], wanted: HbaRule[]): HbaLine[] {
  const out = [...lines];
  const fresh: HbaLine[] = [];
  for (const w of wanted) {
    const i = out.findIndex((l) => l.rule && ruleKey(l.rule) === ruleKey(w));
    if (i === -1) {
      fresh.push({ raw: `${renderRule(w)}\n`, line: 0, rule: w });
    } else if (!sameRule(out[i]!.rule!, w)) {
      const old = out[i]!;
      out[i] = { raw: `${renderRule(w)}${old.raw.endsWith('\n') ? '\n' : ''}`, line: old.line, rule: w };
    }
  }
  let placed = out;
  if (fresh.length) {
    const first = out.findIndex((l) => l.rule);
    if (first === -1) {
      const last = out.at(-1);
      if (last && !last.raw.endsWith('\n')) out[out.length - 1] = { ...last, raw: `${last.raw}\n` };
      placed = [...out, ...fresh];
    } else {
      // Above the comment lines that introduce the first rule, so they stay with it.
      let at = first;
      while (at > 0 && /^\s*#/.test(out[at - 1]!.raw)) at--;
      placed = [...out.slice(0, at), ...fresh, ...out.slice(at)];
    }
  }
  return inSpecOrder(placed, wanted);
}

/** The wanted rules' first lines permuted into the spec's order over the same positions. */
function inSpecOrder(lines: HbaLine[], wanted: HbaRule[]): HbaLine[] {
  const rank = new Map(wanted.map((w, i) => [ruleKey(w), i]));
  const slots: number[] = [];
  const seen = new Set<string>();
  lines.forEach((l, i) => {
    const key = l.rule && ruleKey(l.rule);
    if (key && rank.has(key) && !seen.has(key)) {
      seen.add(key);
      slots.push(i);
    }
  });
  const ordered = slots.map((i) => lines[i]!).sort((a, b) => rank.get(ruleKey(a.rule!))! - rank.get(ruleKey(b.rule!))!);
  if (ordered.every((l, k) => l === lines[slots[k]!])) return lines;
  const out = [...lines];
  slots.forEach((i, k) => {
    const moved = ordered[k]!;
    // The last line of a file may lack its newline: the line that lands there keeps the file's shape.
    const nl = lines[i]!.raw.endsWith('\n');
    const raw = moved.raw.endsWith('\n') ? moved.raw : `${moved.raw}\n`;
    out[i] = { ...moved, raw: nl ? raw : raw.replace(/\n$/, '') };
  });
  return out;
}

/**
 * Whether every connection `later` matches is matched by `earlier` first (pg_hba.conf is read top
 * down, first match wins), so `later` never applies. Judged only where it is certain: names and
 * keywords compared as written, addresses as CIDR containment.
 */
export function shadows(earlier: Pick<HbaRule, 'type' | 'database' | 'user' | 'address'>, later: Pick<HbaRule, 'type' | 'database' | 'user' | 'address'>): boolean {
  const typeCovers = earlier.type === later.type || (earlier.type === 'host' && later.type.startsWith('host'));
  // `all` does not match the replication pseudo-database.
  const dbCovers = normaliseField(earlier.database) === normaliseField(later.database) || (earlier.database === 'all' && later.database !== 'replication');
  const userCovers = normaliseField(earlier.user) === normaliseField(later.user) || earlier.user === 'all';
  if (!typeCovers || !dbCovers || !userCovers) return false;
  if (later.type === 'local') return earlier.type === 'local';
  return cidrCovers(earlier.address ?? 'all', later.address ?? 'all');
}

function cidrCovers(outer: string, inner: string): boolean {
  if (outer === inner || outer === 'all') return true;
  const a = cidr(outer);
  const b = cidr(inner);
  if (!a || !b || a.family !== b.family || a.bits > b.bits) return false;
  const list = new BlockList();
  list.addSubnet(a.address, a.bits, a.family);
  return list.check(b.address, b.family);
}

function cidr(text: string): { address: string; bits: number; family: 'ipv4' | 'ipv6' } | null {
  const [address, bits] = text.split('/');
  const family = isIPv4(address ?? '') ? 'ipv4' : isIPv6(address ?? '') ? 'ipv6' : null;
  if (!family || !address) return null;
  const n = bits === undefined ? (family === 'ipv4' ? 32 : 128) : Number(bits);
  return Number.isInteger(n) ? { address, bits: n, family } : null;
}

export const renderHba = (lines: HbaLine[]): string => lines.map((l) => l.raw).join('');
