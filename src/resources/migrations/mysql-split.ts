import type { Problem, Statement } from './parse.js';

/**
 * Splits MySQL/MariaDB SQL at top-level semicolons, with MySQL's lexical rules (not PostgreSQL's):
 * '...' and "..." strings with backslash escapes, `backtick` identifiers, `#` and `-- ` line
 * comments (`--` needs a space or control character after it), /* *\/ comments that do not nest,
 * and /*! ... *\/ executable comments, which are code. Stored programs (CREATE PROCEDURE,
 * FUNCTION, TRIGGER, EVENT, MariaDB's BEGIN NOT ATOMIC) are one statement through their
 * BEGIN ... END, as the server parses them when dbmate sends a file whole: no DELIMITER needed
 * (and DELIMITER, a client command, is not SQL: it is not supported).
 */
export function splitMysqlStatements(sql: string, firstLine = 1): { statements: Statement[]; problems: Problem[] } {
  const statements: Statement[] = [];
  const problems: Problem[] = [];
  let line = firstLine;
  let lineStart = 0;
  let start = -1;
  let startLine = 0;
  let startCol = 0;
  let words: string[] = [];
  let depth = 0; // BEGIN/CASE ... END nesting inside a stored program
  let previous = ''; // the word before, in the current statement (END CASE closes, CASE after END opens nothing)
  const n = sql.length;
  const at = (i: number) => ({ line, col: i - lineStart + 1 });
  const code = (i: number) => {
    if (start === -1) {
      start = i;
      startLine = line;
      startCol = i - lineStart + 1;
    }
  };
  const skip = (i: number, j: number) => {
    for (let k = i; k < j; k++) {
      if (sql[k] === '\n') {
        line++;
        lineStart = k + 1;
      }
    }
    return j;
  };
  /** The word after position j (to tell END IF / END LOOP from the END of a BEGIN). */
  const nextWord = (j: number) => /^\s*([A-Za-z_]+)/.exec(sql.slice(j, j + 40))?.[1]?.toUpperCase();
  let i = 0;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '\n') {
      i = skip(i, i + 1);
    } else if (c === '#' || (c === '-' && next === '-' && (i + 2 >= n || /[\s\x00-\x1f]/.test(sql[i + 2]!)))) {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end;
    } else if (c === '/' && next === '*') {
      const from = at(i);
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) {
        problems.push({ ...from, message: 'unterminated /* comment' });
        break;
      }
      // /*! ... */ and MariaDB's /*M! ... */ run on the server: they are code.
      if (sql[i + 2] === '!' || (sql[i + 2] === 'M' && sql[i + 3] === '!')) code(i);
      i = skip(i, end + 2);
    } else if (c === "'" || c === '"' || c === '`') {
      code(i);
      const from = at(i);
      let j = i + 1;
      let closed = false;
      while (j < n) {
        if (c !== '`' && sql[j] === '\\') j += 2;
        else if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else {
            closed = true;
            j++;
            break;
          }
        } else j++;
      }
      if (!closed) {
        problems.push({ ...from, message: c === '`' ? 'unterminated `quoted` identifier' : c === "'" ? 'unterminated string literal' : 'unterminated "quoted" string' });
        break;
      }
      i = skip(i, j);
    } else if (c === ';' && depth === 0) {
      if (start !== -1) statements.push({ text: sql.slice(start, i).trim(), line: startLine, col: startCol });
      start = -1;
      words = [];
      previous = '';
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      code(i);
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      const word = sql.slice(i, j).toUpperCase();
      if (words.length < 8) words.push(word);
      if (isStoredProgram(words)) {
        if ((word === 'BEGIN' || word === 'CASE') && previous !== 'END') depth++;
        else if (word === 'ATOMIC' && words.length === 3) depth++;
        // END IF, END LOOP, END WHILE, END REPEAT close what never opened a level.
        else if (word === 'END' && depth > 0 && !['IF', 'LOOP', 'WHILE', 'REPEAT'].includes(nextWord(j) ?? '')) depth--;
      }
      previous = word;
      i = j;
    } else {
      if (!/\s/.test(c)) {
        code(i);
        previous = '';
      }
      i++;
    }
  }
  if (!problems.length && start !== -1) statements.push({ text: sql.slice(start).trim(), line: startLine, col: startCol });
  return { statements, problems };
}

/** CREATE [OR REPLACE] [DEFINER = ...] PROCEDURE|FUNCTION|TRIGGER|EVENT, or BEGIN NOT ATOMIC. */
function isStoredProgram(words: string[]): boolean {
  if (words[0] === 'BEGIN') return words[1] === 'NOT' && words[2] === 'ATOMIC';
  if (words[0] !== 'CREATE') return false;
  for (const w of words.slice(1)) {
    if (['PROCEDURE', 'FUNCTION', 'TRIGGER', 'EVENT'].includes(w)) return true;
    if (['TABLE', 'VIEW', 'INDEX', 'DATABASE', 'SCHEMA', 'USER', 'ROLE', 'SEQUENCE', 'SERVER', 'TABLESPACE', 'UNIQUE', 'FULLTEXT', 'SPATIAL', 'TEMPORARY'].includes(w)) return false;
  }
  return false;
}
