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
  /** Exact bytes including the newline when there is one. */
  raw: string;
  line: number;
  rule?: HbaRule;
}

export function parseHba(text: string): HbaLine[] {
  const out: HbaLine[] = [];
  let pos = 0;
  let n = 1;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl === -1 ? text.length : nl + 1;
    const raw = text.slice(pos, end);
    const rule = parseRule(raw.replace(/\r?\n$/, ''));
    out.push(rule ? { raw, line: n, rule } : { raw, line: n });
    pos = end;
    n++;
  }
  return out;
}

/** Blank-separated tokens; "quoted" tokens may hold blanks and `#`; `#` starts a comment. */
function tokens(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length || line[i] === '#') break;
    let tok = '';
    let quoted = false;
    while (i < line.length && (quoted || !/\s/.test(line[i]!))) {
      const c = line[i]!;
      if (c === '#' && !quoted) break;
      if (c === '"') quoted = !quoted;
      tok += c;
      i++;
    }
    out.push(tok);
    if (line[i] === '#') break;
  }
  return out;
}

const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/;

function parseRule(line: string): HbaRule | undefined {
  const t = tokens(line);
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

/** The connection a rule is about: rules with the same key are the same entry (method and options may differ). */
export function ruleKey(r: Pick<HbaRule, 'type' | 'database' | 'user' | 'address' | 'mask'>): string {
  return [r.type, r.database, r.user, r.address ?? '', r.mask ?? ''].join(' ').trim();
}

/** One rule in the column layout of PostgreSQL's sample file. */
export function renderRule(r: HbaRule): string {
  const col = (s: string, w: number) => (s.length >= w ? `${s} ` : s.padEnd(w));
  const addr = r.type === 'local' ? '' : col([r.address ?? '', r.mask ?? ''].filter(Boolean).join(' '), 24);
  return `${col(r.type, 8)}${col(r.database, 16)}${col(r.user, 16)}${addr}${r.method}${r.options ? ` ${r.options}` : ''}`;
}

export function sameRule(a: HbaRule, b: HbaRule): boolean {
  return ruleKey(a) === ruleKey(b) && a.method === b.method && a.options.split(/\s+/).filter(Boolean).join(' ') === b.options.split(/\s+/).filter(Boolean).join(' ');
}

/**
 * The file with every wanted rule present: a rule whose key exists is rewritten in place (its
 * first line; later duplicates of the key are left alone, since the first match wins); a new rule
 * goes before the first existing rule (and the comments right above it), so the spec's entries
 * are not shadowed by broader hand-written ones. Everything else stays as it was.
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
  if (!fresh.length) return out;
  const first = out.findIndex((l) => l.rule);
  if (first === -1) {
    const last = out.at(-1);
    if (last && !last.raw.endsWith('\n')) out[out.length - 1] = { ...last, raw: `${last.raw}\n` };
    return [...out, ...fresh];
  }
  // Above the comment lines that introduce the first rule, so they stay with it.
  let at = first;
  while (at > 0 && /^\s*#/.test(out[at - 1]!.raw)) at--;
  return [...out.slice(0, at), ...fresh, ...out.slice(at)];
}

export const renderHba = (lines: HbaLine[]): string => lines.map((l) => l.raw).join('');
