import { describeChar } from '../chars.js';

/**
 * Lossless fstab(5): every line is kept as written; only lines the caller replaces are rendered.
 */
import { decodeOctalEscapes } from '../../host/mounts.js';
import { editFile, type LineEdit } from '../../plan/filediff.js';

export interface FstabEntry {
  /** 1-based line number. */
  line: number;
  source: string;
  path: string;
  type: string;
  options: string[];
  dump?: number;
  pass?: number;
}

export interface FstabLine {
  raw: string;
  entry?: FstabEntry;
}

export interface Fstab {
  lines: FstabLine[];
  finalNewline: boolean;
}

/** What a rendered line holds; decoded values. */
export interface FstabFields {
  source: string;
  path: string;
  type: string;
  options: string[];
  dump?: number;
  pass?: number;
}

export const decodeField = decodeOctalEscapes;

export function encodeField(s: string): string {
  // Backslash first, or the escapes we add would be escaped again (the "\040 twice" bug). `#`
  // and CR too: a line starting with `#` is a comment, and CR separates fields here.
  return s.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011').replace(/\n/g, '\\012').replace(/\r/g, '\\015').replace(/#/g, '\\043');
}

/** The kernel copies a mount's source, target and option string with a PATH_MAX/page limit. */
export const FSTAB_FIELD_MAX_BYTES = 4095;

/**
 * Why a value cannot be an fstab field (source, mount point, options), or null when it can.
 * libmount decodes any `\ooo` escape, so with encodeField every character round-trips except
 * NUL (C strings end there); control characters are refused too, since no device, path, server or
 * option holds one and they only hide what a line says.
 */
export function fstabFieldProblem(value: string): string | null {
  const what = `an fstab field holds printable characters and blanks (written as \\040 and \\011), at most ${FSTAB_FIELD_MAX_BYTES} bytes`;
  if (value === '') return `is empty; ${what}`;
  const control = /[\x00-\x08\x0a-\x1f\x7f]/.exec(value);
  if (control) return `holds ${describeChar(control[0])}; ${what}`;
  if (Buffer.byteLength(value) > FSTAB_FIELD_MAX_BYTES) return `is ${Buffer.byteLength(value)} bytes long; ${what}`;
  return null;
}

/**
 * fstab(5): "LABEL=<label> or UUID=<uuid> ... may be enclosed in double quotes"; libmount
 * unquotes a tag's value, so `UUID="ab-12"` and `UUID=ab-12` name the same filesystem.
 */
export function unquoteTag(source: string): string {
  const m = /^(UUID|LABEL|PARTUUID|PARTLABEL|ID)=(["'])(.*)\2$/.exec(source);
  return m ? `${m[1]}=${m[3]}` : source;
}

const TOKEN = /[^ \t\r]+|[ \t\r]+/g;

function parseLine(raw: string, line: number): FstabEntry | undefined {
  if (/^[ \t\r]*(#|$)/.test(raw)) return undefined;
  const fields = raw.match(TOKEN)!.filter((t) => !/^[ \t\r]/.test(t));
  // libmount needs at least source and target; keep anything shorter as an opaque line.
  if (fields.length < 2) return undefined;
  const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);
  const e: FstabEntry = {
    line,
    source: decodeField(fields[0]!),
    path: normalisePath(decodeField(fields[1]!)),
    type: fields[2] !== undefined ? decodeField(fields[2]) : 'auto',
    options: fields[3] !== undefined ? decodeField(fields[3]).split(',').filter(Boolean) : ['defaults'],
  };
  const dump = num(fields[4]);
  const pass = num(fields[5]);
  if (dump !== undefined) e.dump = dump;
  if (pass !== undefined) e.pass = pass;
  return e;
}

export function parseFstab(text: string): Fstab {
  const finalNewline = text.endsWith('\n');
  const body = finalNewline ? text.slice(0, -1) : text;
  const raws = text === '' ? [] : body.split('\n');
  return { lines: raws.map((raw, i) => ({ raw, entry: parseLine(raw, i + 1) })), finalNewline };
}

export function renderFstab(f: Fstab): string {
  if (f.lines.length === 0) return '';
  return f.lines.map((l) => l.raw).join('\n') + (f.finalNewline ? '\n' : '');
}

export function normalisePath(p: string): string {
  if (p === '/' || !p.startsWith('/')) return p;
  return p.replace(/\/+/g, '/').replace(/\/$/, '');
}

function fieldList(e: FstabFields): string[] {
  const opts = e.options.length ? e.options.join(',') : 'defaults';
  const f = [encodeField(e.source), encodeField(e.path), encodeField(e.type), encodeField(opts)];
  if (e.dump !== undefined || e.pass !== undefined) f.push(String(e.dump ?? 0));
  if (e.pass !== undefined) f.push(String(e.pass));
  return f;
}

/**
 * Renders an entry; when it replaces an existing line, that line's leading blanks and column
 * separators are reused so a hand-aligned file stays aligned, and whatever follows its sixth field
 * (libmount ignores it: a `# comment` there is the admin's note) is kept byte for byte.
 */
export function renderEntry(e: FstabFields, previousRaw?: string): string {
  const fields = fieldList(e);
  if (previousRaw === undefined) return fields.join('\t');
  const tokens = previousRaw.match(TOKEN) ?? [];
  const lead = tokens[0] && /^[ \t]/.test(tokens[0]) ? tokens.shift()! : '';
  const isBlank = (t: string) => /^[ \t\r]/.test(t);
  // The tail starts after the old line's sixth field, or after its last one when it had fewer.
  let cut = 0;
  let count = 0;
  tokens.forEach((t, i) => {
    if (!isBlank(t) && count < 6) {
      count++;
      cut = i + 1;
    }
  });
  const tail = tokens.slice(cut).join('');
  // A comment after fewer than six fields would be read as dump and pass: write them out.
  if (/[^ \t\r]/.test(tail)) while (fields.length < 6) fields.push('0');
  const seps = tokens.slice(0, cut).filter(isBlank);
  const fallback = seps[0] ?? '\t';
  const out = [lead];
  fields.forEach((f, i) => {
    if (i > 0) out.push(seps[i - 1] ?? fallback);
    out.push(f);
  });
  out.push(tail);
  return out.join('');
}

/** Entries that share a mount point (swap lines excepted): each group names its lines. */
export function duplicateEntries(f: Fstab): Map<string, FstabEntry[]> {
  const byPath = new Map<string, FstabEntry[]>();
  for (const l of f.lines) {
    const e = l.entry;
    if (!e || e.type === 'swap' || e.path === 'none' || e.path === 'swap') continue;
    byPath.set(e.path, [...(byPath.get(e.path) ?? []), e]);
  }
  return new Map([...byPath].filter(([, es]) => es.length > 1));
}

/**
 * Edits by mount point as line edits of the file: a value replaces that entry's line, null removes
 * it, and paths without a line are appended in the order given. Every other byte is kept. Each
 * edit is owned by `owner(path)`, so the one diff of fstab can say whose lines are whose.
 */
export function fstabEdits(f: Fstab, edits: Map<string, FstabFields | null>, owner: (path: string) => string = (p) => p): LineEdit[] {
  const pending = new Map(edits);
  const out: LineEdit[] = [];
  f.lines.forEach((l, i) => {
    const e = l.entry;
    if (!e || !pending.has(e.path)) return;
    const next = pending.get(e.path)!;
    pending.delete(e.path);
    out.push({ owner: owner(e.path), start: i, remove: 1, insert: next === null ? [] : [renderEntry(next, l.raw)] });
  });
  for (const [path, v] of pending) if (v !== null) out.push({ owner: owner(path), start: f.lines.length, remove: 0, insert: [renderEntry(v)] });
  return out;
}

/** The file after `fstabEdits`. */
export function editFstab(f: Fstab, edits: Map<string, FstabFields | null>): string {
  return editFile('/etc/fstab', renderFstab(f), fstabEdits(f, edits)).after;
}

const entryIndex = new WeakMap<Fstab, Map<string, FstabEntry>>();

/** The (first) entry for a mount point; indexed once per parsed file, since specs list hundreds. */
export function entryFor(f: Fstab, path: string): FstabEntry | undefined {
  let index = entryIndex.get(f);
  if (!index) {
    index = new Map();
    for (const l of f.lines) if (l.entry && !index.has(l.entry.path)) index.set(l.entry.path, l.entry);
    entryIndex.set(f, index);
  }
  return index.get(path);
}
