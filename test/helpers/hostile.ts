/**
 * The class of hostile values every line format is tested with (tests only): option-like, line
 * and field breakers, comment starters, quotes, escapes, empty and huge.
 */
export const HOSTILE_VALUES: Record<string, string> = {
  'leading dash': '-o',
  'leading dash option': '-no_root_squash',
  NUL: 'a\0b',
  CR: 'a\rb',
  LF: 'a\nb',
  CRLF: 'a\r\nb',
  tab: 'a\tb',
  'leading #': '#a',
  'inner #': 'a#b',
  blank: 'a b',
  'leading blank': ' a',
  'trailing blank': 'a ',
  'double quotes': '"a b"',
  'unbalanced double quote': '"a',
  'single quotes': "'a'",
  backslash: 'a\\b',
  'trailing backslash': 'a\\',
  'octal escape': 'a\\040b',
  'octal escape of #': '\\043a',
  comma: 'a,b',
  parentheses: 'a(b)',
  'equals and blanks': 'db0 hostaddr=203.0.113.9 sslmode=disable',
  empty: '',
  unicode: 'dätä',
  huge: 'x'.repeat(5000),
};
