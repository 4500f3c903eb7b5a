import { REDACTED } from '../../spec/secrets.js';
import { describeChar } from '../chars.js';

/**
 * libpq key/value connection strings (`host=a port=5432 password='x y'`), as found in
 * primary_conninfo. The password is what makes them secret: every form shown to a human goes
 * through redactConninfo.
 */
export function parseConninfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  const s = text;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    let key = '';
    while (i < s.length && s[i] !== '=' && !/\s/.test(s[i]!)) key += s[i++];
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (s[i] !== '=') throw new Error(`bad connection string near "${key}"`);
    i++;
    while (i < s.length && /\s/.test(s[i]!)) i++;
    let value = '';
    if (s[i] === "'") {
      i++;
      while (i < s.length && s[i] !== "'") {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        value += s[i++];
      }
      i++; // closing quote
    } else {
      while (i < s.length && !/\s/.test(s[i]!)) {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        value += s[i++];
      }
    }
    out[key] = value;
  }
  return out;
}

function quote(v: string): string {
  return v !== '' && /^[^\s'\\]+$/.test(v) ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * Why a string cannot be a libpq host, or null when it can: a host name, an IP address or a socket
 * directory (an absolute path), or a comma list of them. renderConninfo would quote anything, but
 * `db0 hostaddr=10.0.0.9 sslmode=disable` is not a host: it reads as a request to connect elsewhere.
 */
export function conninfoHostProblem(host: string): string | null {
  const what = 'a PostgreSQL host is a host name, an IP address or a socket directory (an absolute path), or a comma list of them, without blanks or quotes';
  if (host === '') return `is empty; ${what}`;
  const bad = /[\x00-\x20\x7f'"\\=]/.exec(host);
  if (bad) return `holds ${describeChar(bad[0])}; ${what}`;
  if (host.split(',').some((h) => !h.startsWith('/') && !/^[A-Za-z0-9_.:%\[\]-]+$/.test(h))) return `is not a host name or address; ${what}`;
  if (host.split(',').some((h) => h.startsWith('-'))) return `starts with "-"; ${what}`;
  return null;
}

/** Why a string cannot be a conninfo value (libpq's strings end at NUL), or null. */
export function conninfoValueProblem(value: string): string | null {
  return value.includes('\0') ? 'holds a NUL character; a connection parameter holds any characters but NUL' : null;
}

export function renderConninfo(params: Record<string, string>): string {
  return Object.entries(params).map(([k, v]) => `${k}=${quote(v)}`).join(' ');
}

/** The same string with the password's value replaced; unparseable text is hidden whole. */
export function redactConninfo(text: string): string {
  try {
    const p = parseConninfo(text);
    if ('password' in p) p.password = REDACTED;
    return renderConninfo(p);
  } catch {
    return REDACTED;
  }
}
