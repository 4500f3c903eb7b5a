import { describeChar } from '../chars.js';

/**
 * exports(5), losslessly: the file is a list of logical lines that keep their exact bytes
 * (continuations, comments, spacing); only entries reconcile manages are ever re-rendered.
 */
import { decodeOctalEscapes } from '../../host/mounts.js';
export interface ExportClient {
  /** A host, network, wildcard, @netgroup, `*`; '' for the anonymous form `(opts)`. */
  host: string;
  options: string[];
}

export interface ExportEntry {
  path: string;
  /** `-opts` given after the path: defaults for every client of the line. */
  defaults: string[];
  clients: ExportClient[];
}

export interface ExportsLine {
  /** Exact bytes, including the terminating newline when there is one. */
  raw: string;
  /** 1-based line number of the first physical line. */
  line: number;
  entry?: ExportEntry;
  error?: string;
}

export function parseExports(text: string): ExportsLine[] {
  const out: ExportsLine[] = [];
  let pos = 0;
  let lineNo = 1;
  while (pos < text.length) {
    // A logical line runs to the first newline that is not escaped by a trailing backslash.
    let end = pos;
    let physical = 1;
    for (;;) {
      const nl = text.indexOf('\n', end);
      if (nl === -1) {
        end = text.length;
        break;
      }
      const body = text.slice(end, nl);
      if (body.endsWith('\\') && !isComment(text.slice(pos, nl))) {
        end = nl + 1;
        physical++;
        continue;
      }
      end = nl + 1;
      break;
    }
    const raw = text.slice(pos, end);
    const logical = raw.replace(/\\\n/g, ' ').replace(/\n$/, '');
    const parsed = parseLogicalLine(logical);
    out.push({ raw, line: lineNo, ...parsed });
    lineNo += physical;
    pos = end;
  }
  return out;
}

function isComment(line: string): boolean {
  return /^\s*#/.test(line);
}

function parseLogicalLine(line: string): { entry?: ExportEntry; error?: string } {
  const tokens = tokenize(line);
  if (tokens.length === 0) return {};
  const [first, ...rest] = tokens;
  const path = first!;
  if (!path.startsWith('/')) return { error: `export path must be absolute: ${path}` };
  let defaults: string[] = [];
  const clients: ExportClient[] = [];
  for (const t of rest) {
    if (t.startsWith('-') && clients.length === 0) {
      defaults = splitOptions(t.slice(1));
      continue;
    }
    const m = /^([^()]*)(?:\(([^()]*)\))?$/.exec(t);
    if (!m) return { error: `cannot parse client "${t}"` };
    clients.push({ host: m[1] ?? '', options: m[2] === undefined ? [] : splitOptions(m[2]) });
  }
  return { entry: { path, defaults, clients } };
}

function splitOptions(s: string): string[] {
  return s.split(',').map((o) => o.trim()).filter(Boolean);
}

/** Blank-separated tokens; a `"..."` path may hold blanks; `#` starts a comment; `\NNN` octal escapes. */
function tokenize(line: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length || line[i] === '#') break;
    let tok = '';
    let quoted = false;
    while (i < line.length && (quoted || !/\s/.test(line[i]!))) {
      const c = line[i]!;
      if (c === '"') {
        quoted = !quoted;
        i++;
      } else {
        tok += c;
        i++;
      }
    }
    // An escape is four plain characters until here: `\040` splits nothing, `\042` quotes nothing.
    tokens.push(decodeOctalEscapes(tok));
  }
  return tokens;
}

/** One line for an entry; paths with blanks are quoted the way exportfs reads them. */
export function renderEntry(e: ExportEntry): string {
  const path = /[\s"#\\]/.test(e.path) ? `"${e.path.replace(/\\/g, '\\134').replace(/"/g, '\\042')}"` : e.path;
  const defaults = e.defaults.length ? [`-${e.defaults.join(',')}`] : [];
  const clients = e.clients.map((c) => (c.options.length ? `${c.host}(${c.options.join(',')})` : c.host));
  return [path, ...defaults, ...clients].join(' ');
}

/** nfs-utils reads export paths into a buffer of NFS_MAXPATHLEN: a longer line is dropped silently. */
export const EXPORT_PATH_MAX_BYTES = 1024;

/**
 * Why a path cannot be an export's path, or null when it can. renderEntry quotes blanks, `#` and
 * `"` and escapes `\` and `"` as exportfs decodes them (`\ooo`, checked against nfs-utils 2.6),
 * so only NUL and line breaks cannot be held, and the length.
 */
export function exportPathProblem(path: string): string | null {
  const what = `an export path holds any characters but NUL and line breaks, at most ${EXPORT_PATH_MAX_BYTES} bytes`;
  const bad = /[\0\n\r]/.exec(path);
  if (bad) return `holds ${describeChar(bad[0])}; ${what}`;
  const bytes = Buffer.byteLength(path);
  if (bytes > EXPORT_PATH_MAX_BYTES) return `is ${bytes} bytes long; ${what}`;
  return null;
}

/** Host names are at most 253 characters; a network or wildcard a few more. */
export const EXPORT_CLIENT_MAX_BYTES = 255;

/**
 * Why a string cannot be one exports(5) client, or null when it can. exportfs reads a token
 * starting with `-` as the line's default options for every client (`-no_root_squash`), decodes
 * `\ooo` escapes in hosts, and splits at blanks, parentheses and `#`.
 */
export function exportClientProblem(host: string): string | null {
  const what = `an exports client is a host name, address, network (a.b.c.d/nn), wildcard, @netgroup or *, without blanks, quotes, backslashes, parentheses, commas or #, not starting with -, at most ${EXPORT_CLIENT_MAX_BYTES} bytes`;
  if (host === '') return `is empty; ${what}`;
  if (host.startsWith('-')) return `starts with "-" (exportfs would read it as options for every client of the line); ${what}`;
  const bad = /[\x00-\x20\x7f()"'#\\,]/.exec(host);
  if (bad) return `holds ${describeChar(bad[0])}; ${what}`;
  if (Buffer.byteLength(host) > EXPORT_CLIENT_MAX_BYTES) return `is ${Buffer.byteLength(host)} bytes long; ${what}`;
  return null;
}

/** Why a string cannot be one export option inside a client's parentheses, or null. */
export function exportOptionProblem(option: string): string | null {
  const what = 'an export option is a keyword or keyword=value without blanks, quotes, backslashes, parentheses, commas or #';
  if (!/^[a-z_]+(=|$)/.test(option)) return `is not a keyword; ${what}`;
  const bad = /[\x00-\x20\x7f()"'#\\,]/.exec(option);
  return bad ? `holds ${describeChar(bad[0])}; ${what}` : null;
}

/**
 * Options that exclude each other: a later one replaces an earlier one of its family, so a
 * client's own `rw` overrides the line default `-ro`.
 */
const FAMILIES: string[][] = [
  ['rw', 'ro'],
  ['sync', 'async'],
  ['secure', 'insecure'],
  ['root_squash', 'no_root_squash'],
  ['all_squash', 'no_all_squash'],
  ['subtree_check', 'no_subtree_check'],
  ['wdelay', 'no_wdelay'],
  ['hide', 'nohide'],
  ['secure_locks', 'insecure_locks', 'auth_nlm', 'no_auth_nlm'],
  ['crossmnt'],
  ['pnfs', 'no_pnfs'],
];

export function familyOf(option: string): string {
  const eq = option.indexOf('=');
  if (eq !== -1) return option.slice(0, eq);
  const fam = FAMILIES.find((f) => f.includes(option));
  return fam ? fam[0]! : option;
}

/** The options a client really gets: line defaults overridden by its own, as a sorted set. */
export function effectiveOptions(defaults: string[], options: string[]): string[] {
  const byFamily = new Map<string, string>();
  for (const o of [...defaults, ...options]) byFamily.set(familyOf(o), o);
  return [...byFamily.values()].sort();
}

/** Keywords exports(5) knows; anything else makes `exportfs` fail with "unknown keyword". */
export const KNOWN_EXPORT_OPTIONS = new Set([
  'secure', 'insecure', 'rw', 'ro', 'async', 'sync', 'wdelay', 'no_wdelay', 'hide', 'nohide', 'crossmnt',
  'subtree_check', 'no_subtree_check', 'insecure_locks', 'no_auth_nlm', 'secure_locks', 'auth_nlm',
  'mountpoint', 'mp', 'nordirplus', 'pnfs', 'no_pnfs', 'security_label', 'root_squash', 'no_root_squash',
  'all_squash', 'no_all_squash', 'no_acl', 'acl',
]);
export const KNOWN_EXPORT_VALUE_OPTIONS = new Set(['mountpoint', 'mp', 'fsid', 'refer', 'replicas', 'sec', 'anonuid', 'anongid', 'xprtsec']);

export function isKnownExportOption(option: string): boolean {
  const eq = option.indexOf('=');
  return eq === -1 ? KNOWN_EXPORT_OPTIONS.has(option) : KNOWN_EXPORT_VALUE_OPTIONS.has(option.slice(0, eq));
}

/** A live export as `exportfs -v` shows it. */
export interface LiveExport {
  path: string;
  host: string;
  options: string[];
}

/**
 * `exportfs -v` prints `PATH<tab>CLIENT(opts)`, or the path alone on a line and the client on the
 * next when the path is long; `<world>` stands for `*`.
 */
export function parseExportfsV(text: string): LiveExport[] {
  const out: LiveExport[] = [];
  let pending: string | undefined;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const m = /^(\S.*?)?\s+(\S+?)\(([^)]*)\)\s*$/.exec(line);
    if (m) {
      const path = m[1] ?? pending;
      pending = undefined;
      if (!path) continue;
      const host = m[2] === '<world>' ? '*' : m[2]!;
      out.push({ path: decodeOctalEscapes(path), host, options: splitOptions(m[3]!) });
    } else {
      pending = line.trim();
    }
  }
  return out;
}

