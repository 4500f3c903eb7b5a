/**
 * The CIFS credentials file mount.cifs reads (`credentials=FILE`): one `key=value` per line, the
 * value running to the end of its line. Pure.
 */
import { describeChar } from '../chars.js';

export function credentialsContent(c: { username: string; password: string; domain?: string }): string {
  return `username=${c.username}\npassword=${c.password}\n${c.domain ? `domain=${c.domain}\n` : ''}`;
}

/** The kernel's limits (include/uapi/linux/cifs/cifs_mount.h). */
export const CIFS_MAX_BYTES = { username: 256, domain: 256, password: 512 } as const;

/**
 * Why a value cannot be a line of the credentials file, or null when it can. A line break would
 * end the value and start another key (`username=bob\npassword=…`), so it and every other
 * control character are refused. Never quotes the value: it may be the password.
 */
export function credentialsValueProblem(field: keyof typeof CIFS_MAX_BYTES, value: string): string | null {
  const max = CIFS_MAX_BYTES[field];
  const what = `a CIFS ${field} is one line of printable characters, at most ${max} bytes`;
  if (value === '' && field !== 'password') return `is empty; ${what}`;
  const control = /[\x00-\x1f\x7f]/.exec(value);
  if (control) return `holds ${describeChar(control[0])}; ${what}`;
  const bytes = Buffer.byteLength(value);
  if (bytes > max) return `is ${bytes} bytes long; ${what}`;
  return null;
}
