import { createHash } from 'node:crypto';

/**
 * Migration files in the dbmate convention: `<version>_<slug>.sql` holding `-- migrate:up`
 * and optionally `-- migrate:down` (or several such pairs), each marker optionally followed by
 * `transaction:false`.
 * Everything here is pure: text in, data or problems (with line and column) out.
 */

export const FILE_NAME = /^(\d+)_([A-Za-z0-9][A-Za-z0-9_.-]*)\.sql$/;

export interface Block {
  /** The SQL between this marker and the next (or the end), trailing blank space removed. */
  sql: string;
  /** 1-based line in the file of the section's first SQL line (the line after the marker). */
  line: number;
  /** false for `transaction:false`: statements run one by one outside a transaction. */
  transaction: boolean;
}

/**
 * The up (or down) SQL of a migration. Most files have one section per direction; a file of
 * several (dbmate allows `-- migrate:up` / `-- migrate:down` pairs, each with its own options)
 * lists them in `blocks`, run in order, and `transaction` is true only when all of them are.
 */
export interface Section extends Block {
  blocks?: Block[];
}

export interface ParsedMigration {
  up: Section;
  /** null when the file has no down section, or one with no statement in it. */
  down: Section | null;
}

export interface Problem {
  line: number;
  col: number;
  message: string;
}

export interface Statement {
  text: string;
  /** 1-based line and column in the file of the statement's first character of code. */
  line: number;
  col: number;
}

/** `20240101120000_create_users.sql` -> version and slug; null when not named that way. */
export function parseFileName(name: string): { version: string; name: string } | null {
  const m = FILE_NAME.exec(name);
  return m ? { version: m[1]!, name: m[2]! } : null;
}

/** The checksum recorded for an applied migration: the up section as it runs. */
export function checksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n').trim()).digest('hex');
}

/** Versions are digit strings of any width (sequence or timestamp): compare as numbers. */
export function compareVersions(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

// As dbmate's upRegExp/downRegExp: the marker, then nothing or whitespace and options.
const MARKER = /^--\s*migrate:(\S*)(.*)$/;

/**
 * Reads a migration as dbmate does (pkg/dbmate/migration.go and migration_test.go): blank and
 * comment lines may precede the first marker; a file is one or more sections, each an
 * `-- migrate:up` followed by its `-- migrate:down`, each marker with its own options; up
 * sections run in file order, down sections too (dbmate's Rollback walks them in file order). The empty file `dbmate new` writes (the two
 * markers and nothing else) is a migration that runs nothing. More lenient than dbmate in one
 * way, as before: a file of one up section may leave out the down section (it cannot be reverted).
 * `split` is the database's statement splitter (PostgreSQL's by default; see dialect.ts).
 */
export function parseMigration(text: string, split: typeof splitStatements = splitStatements): { migration?: ParsedMigration; problems: Problem[] } {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const problems: Problem[] = [];
  type Open = { kind: 'up' | 'down'; markerLine: number; transaction: boolean; body: string[] };
  const blocks: Open[] = [];
  let current: Open | null = null;
  let lastUp: Open | null = null;
  lines.forEach((raw, i) => {
    const line = i + 1;
    const m = MARKER.exec(raw);
    if (!m) {
      if (current) current.body.push(raw);
      else if (raw.trim() !== '' && !raw.trim().startsWith('--')) {
        problems.push({ line, col: raw.search(/\S/) + 1, message: 'SQL before "-- migrate:up": every statement belongs to the up or the down section' });
      }
      return;
    }
    const kind = m[1];
    if (kind !== 'up' && kind !== 'down') {
      problems.push({ line, col: raw.indexOf('migrate:') + 1, message: `unknown section "migrate:${kind}" (expected "-- migrate:up" or "-- migrate:down")` });
      current = null;
      return;
    }
    const previous = blocks.at(-1);
    if (kind === 'down' && !previous) {
      problems.push({ line, col: 1, message: '"-- migrate:down" before "-- migrate:up": the up section comes first' });
    } else if (kind === 'down' && previous?.kind === 'down') {
      problems.push({ line, col: 1, message: `a second "-- migrate:down" (the first is at line ${previous.markerLine}) with no "-- migrate:up" between them: each down section follows its up section` });
    } else if (kind === 'up' && previous?.kind === 'up') {
      problems.push({ line, col: 1, message: `a second "-- migrate:up" (the first is at line ${previous.markerLine}) with no "-- migrate:down" between them: each up section is followed by its down section` });
    }
    let transaction = true;
    const optionsAt = raw.length - m[2]!.length;
    for (const opt of m[2]!.matchAll(/\S+/g)) {
      const col = optionsAt + opt.index + 1;
      if (opt[0] === 'transaction:false') transaction = false;
      else if (opt[0] === 'transaction:true') transaction = true;
      else problems.push({ line, col, message: `unknown option "${opt[0]}" after "-- migrate:${kind}" (only transaction:false is known)` });
    }
    current = { kind, markerLine: line, transaction, body: [] };
    blocks.push(current);
    if (kind === 'up') lastUp = current;
  });

  const ups = blocks.filter((b) => b.kind === 'up');
  const downs = blocks.filter((b) => b.kind === 'down');
  if (!ups.length) {
    if (!problems.length) problems.push({ line: 1, col: 1, message: 'no "-- migrate:up" section (a migration is "-- migrate:up", its SQL, then optionally "-- migrate:down" and its SQL)' });
    return { problems };
  }
  if (ups.length > 1 && blocks.at(-1)!.kind === 'up') {
    problems.push({ line: lastUp!.markerLine, col: 1, message: 'this up section has no "-- migrate:down" after it: in a file of several sections each up section is followed by its down section' });
  }
  const section = (group: Open[]): { section: Section; statements: number } => {
    let statements = 0;
    const parts: Block[] = group.map((o) => {
      const b: Block = { sql: o.body.join('\n').replace(/\s+$/, ''), line: o.markerLine + 1, transaction: o.transaction };
      const pieces = split(b.sql, b.line);
      problems.push(...pieces.problems);
      statements += pieces.statements.length;
      return b;
    });
    const first = parts[0]!;
    if (parts.length === 1) return { section: first, statements };
    // Several sections: the SQL of all (what the checksum covers), each run as its marker says.
    return { section: { sql: parts.map((b) => b.sql).join('\n'), line: first.line, transaction: parts.every((b) => b.transaction), blocks: parts }, statements };
  };
  const up = section(ups);
  const down = downs.length ? section(downs) : null;
  if (problems.length) return { problems: problems.sort((a, b) => a.line - b.line || a.col - b.col) };
  return { migration: { up: up.section, down: down && down.statements ? down.section : null }, problems };
}

/**
 * Splits SQL at top-level semicolons, the way psql does: quotes ('', E'', ""), dollar quotes,
 * line and nested block comments, and SQL-standard function bodies (BEGIN ATOMIC ... END) are
 * not split. Statements are run one at a time so a failure can name the one that failed, and so
 * `transaction:false` statements (CREATE INDEX CONCURRENTLY) are not wrapped in an implicit
 * transaction by the multi-statement protocol.
 */
export function splitStatements(sql: string, firstLine = 1): { statements: Statement[]; problems: Problem[] } {
  const statements: Statement[] = [];
  const problems: Problem[] = [];
  let line = firstLine;
  let lineStart = 0;
  let start = -1; // index of the current statement's first code character
  let startLine = 0;
  let startCol = 0;
  let words: string[] = []; // leading words, to recognise CREATE FUNCTION/PROCEDURE
  let depth = 0; // BEGIN/CASE ... END nesting inside a function body
  const n = sql.length;
  const at = (i: number) => ({ line, col: i - lineStart + 1 });
  const code = (i: number) => {
    if (start === -1) {
      start = i;
      startLine = line;
      startCol = i - lineStart + 1;
    }
  };
  // Advances over [i, j) counting newlines.
  const skip = (i: number, j: number) => {
    for (let k = i; k < j; k++) {
      if (sql[k] === '\n') {
        line++;
        lineStart = k + 1;
      }
    }
    return j;
  };
  let i = 0;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '\n') {
      i = skip(i, i + 1);
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end;
    } else if (c === '/' && next === '*') {
      const from = at(i);
      let level = 0;
      let j = i;
      while (j < n) {
        if (sql[j] === '/' && sql[j + 1] === '*') {
          level++;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          level--;
          j += 2;
          if (level === 0) break;
        } else j++;
      }
      if (level !== 0) {
        problems.push({ ...from, message: 'unterminated /* comment' });
        break;
      }
      i = skip(i, j);
    } else if (c === "'" || c === '"') {
      code(i);
      const from = at(i);
      const escapes = c === "'" && i > 0 && /[eE]/.test(sql[i - 1]!) && (i < 2 || !/[A-Za-z0-9_$]/.test(sql[i - 2]!));
      let j = i + 1;
      let closed = false;
      while (j < n) {
        if (escapes && sql[j] === '\\') j += 2;
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
        problems.push({ ...from, message: c === "'" ? 'unterminated string literal' : 'unterminated quoted identifier' });
        break;
      }
      i = skip(i, j);
    } else if (c === '$' && !(i > 0 && /[A-Za-z0-9_]/.test(sql[i - 1]!))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      code(i);
      if (!tag) {
        i++; // a parameter like $1, or an operator
        continue;
      }
      const from = at(i);
      const end = sql.indexOf(tag[0], i + tag[0].length);
      if (end === -1) {
        problems.push({ ...from, message: `unterminated dollar-quoted string ${tag[0]}` });
        break;
      }
      i = skip(i, end + tag[0].length);
    } else if (c === ';' && depth === 0) {
      if (start !== -1) statements.push({ text: sql.slice(start, i).trim(), line: startLine, col: startCol });
      start = -1;
      words = [];
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      code(i);
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      const word = sql.slice(i, j).toUpperCase();
      if (words.length < 6) words.push(word);
      if (isRoutine(words)) {
        if (word === 'BEGIN' || word === 'CASE') depth++;
        else if (word === 'END' && depth > 0) depth--;
      }
      i = j;
    } else {
      if (!/\s/.test(c)) code(i);
      i++;
    }
  }
  if (!problems.length && start !== -1) statements.push({ text: sql.slice(start).trim(), line: startLine, col: startCol });
  return { statements, problems };
}

/** CREATE [OR REPLACE] FUNCTION|PROCEDURE: the only statements whose body may hold semicolons unquoted. */
function isRoutine(words: string[]): boolean {
  if (words[0] !== 'CREATE') return false;
  const k = words[1] === 'OR' && words[2] === 'REPLACE' ? 3 : 1;
  return words[k] === 'FUNCTION' || words[k] === 'PROCEDURE';
}
