/**
 * How a value's offending character is named in a message: printable ones quoted, the rest by code
 * point, so a message never carries a raw control character to the terminal.
 */
export function describeChar(c: string): string {
  const named: Record<string, string> = { ' ': 'a blank', '"': 'a double quote', "'": 'a single quote', '\\': 'a backslash', ',': 'a comma' };
  if (named[c]) return named[c];
  if (c === '\n' || c === '\r') return `a line break (U+000${c === '\n' ? 'A' : 'D'})`;
  if (/[\x00-\x1f\x7f]/.test(c)) return `the control character U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return `"${c}"`;
}
