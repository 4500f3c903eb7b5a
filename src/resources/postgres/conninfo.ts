import { REDACTED } from '../../spec/secrets.js';

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
