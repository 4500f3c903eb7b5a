import { describe, expect, it } from 'vitest';
import { splitMysqlStatements } from './mysql-split.js';
import { readMigrationDir } from './files.js';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const texts = (sql: string) => {
  const r = splitMysqlStatements(sql);
  expect(r.problems).toEqual([]);
  return r.statements.map((s) => s.text);
};

describe('splitMysqlStatements', () => {
  it('splits at top-level semicolons with each statement\'s line and column', () => {
    expect(splitMysqlStatements('CREATE TABLE a (id int);\n  INSERT INTO a VALUES (1);', 5).statements).toEqual([
      { text: 'CREATE TABLE a (id int)', line: 5, col: 1 },
      { text: 'INSERT INTO a VALUES (1)', line: 6, col: 3 },
    ]);
  });

  it('keeps semicolons and quotes inside strings with backslash escapes, doubled quotes, "strings" and `identifiers`', () => {
    expect(texts("INSERT INTO t VALUES ('it\\'s; here', 'a''b;', \"x;\\\"y\");\nCREATE TABLE `odd;name` (`we``ird;` int);\nSELECT 1")).toEqual([
      "INSERT INTO t VALUES ('it\\'s; here', 'a''b;', \"x;\\\"y\")",
      'CREATE TABLE `odd;name` (`we``ird;` int)',
      'SELECT 1',
    ]);
    // A backslash before the closing quote of a string escapes it; a backslash in `backticks` does not.
    expect(texts("SELECT '\\\\'; SELECT `a\\`; SELECT 2")).toEqual(["SELECT '\\\\'", 'SELECT `a\\`', 'SELECT 2']);
  });

  it('reads # and "-- " comments, not --1 (minus minus one), and /* */ that do not nest', () => {
    expect(texts('SELECT 1 # one; still a comment\n; SELECT 2 -- two; a comment\n; SELECT 3--1;\n/* a; /* b; */ SELECT 4;')).toEqual(['SELECT 1 # one; still a comment', 'SELECT 2 -- two; a comment', 'SELECT 3--1', 'SELECT 4']);
  });

  it('keeps /*! executable comments */ as code', () => {
    expect(texts('/*!40101 SET NAMES utf8mb4 */;\n/*M!100100 SET x = 1 */;\n/* only a comment */;')).toEqual(['/*!40101 SET NAMES utf8mb4 */', '/*M!100100 SET x = 1 */']);
  });

  it('keeps a stored program whole through BEGIN ... END, with END IF, END LOOP, CASE and labels inside', () => {
    const proc = `CREATE DEFINER = CURRENT_USER PROCEDURE p(IN n int)
BEGIN
  DECLARE i int DEFAULT 0;
  l1: LOOP
    SET i = i + 1;
    IF i > n THEN LEAVE l1; END IF;
    CASE WHEN i = 2 THEN SELECT 'two;'; ELSE BEGIN SELECT i; END; END CASE;
    WHILE i < 0 DO SET i = IF(i > 1, i, 0); END WHILE;
    REPEAT SET i = i + 1; UNTIL i > 0 END REPEAT;
  END LOOP l1;
  SELECT CASE i WHEN 1 THEN 'one' ELSE 'many' END;
END`;
    expect(texts(`${proc};\nCREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = 1; SET NEW.y = 2; END;\nSELECT 9;`)).toEqual([
      proc,
      'CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = 1; SET NEW.y = 2; END',
      'SELECT 9',
    ]);
    expect(texts('CREATE PROCEDURE p() BEGIN BEGIN SELECT 1; END; CASE WHEN 1 THEN SELECT 2; END CASE; END; SELECT 3')).toEqual([
      'CREATE PROCEDURE p() BEGIN BEGIN SELECT 1; END; CASE WHEN 1 THEN SELECT 2; END CASE; END',
      'SELECT 3',
    ]);
    expect(texts('BEGIN NOT ATOMIC SELECT 1; SELECT 2; END;\nSELECT 3')).toEqual(['BEGIN NOT ATOMIC SELECT 1; SELECT 2; END', 'SELECT 3']);
    // Outside a stored program BEGIN starts a transaction and CASE ... END is an expression.
    expect(texts("BEGIN; SELECT CASE WHEN 1 THEN 'a' END; COMMIT")).toEqual(['BEGIN', "SELECT CASE WHEN 1 THEN 'a' END", 'COMMIT']);
    // A table named like a keyword is no stored program.
    expect(texts('CREATE TABLE `procedure` (id int); SELECT 1')).toEqual(['CREATE TABLE `procedure` (id int)', 'SELECT 1']);
  });

  it('reports unterminated strings, identifiers and comments where they start', () => {
    expect(splitMysqlStatements("SELECT 1;\nSELECT 'it\\';", 2).problems).toEqual([{ line: 3, col: 8, message: 'unterminated string literal' }]);
    expect(splitMysqlStatements('SELECT `a;').problems).toEqual([{ line: 1, col: 8, message: 'unterminated `quoted` identifier' }]);
    expect(splitMysqlStatements('SELECT 1 /* no end').problems).toEqual([{ line: 1, col: 10, message: 'unterminated /* comment' }]);
  });

  it('handles empty and comment-only input', () => {
    expect(texts('')).toEqual([]);
    expect(texts('  ;; # x\n-- y\n')).toEqual([]);
  });
});

describe('readMigrationDir without the database (validate)', () => {
  it('accepts a file MySQL splits though PostgreSQL does not, and reports one neither splits', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-mysql-split-'));
    try {
      mkdirSync(path.join(dir, 'm'));
      writeFileSync(path.join(dir, 'm', '001_a.sql'), "-- migrate:up\nINSERT INTO t VALUES ('it\\'s');\n");
      writeFileSync(path.join(dir, 'm', '002_b.sql'), "-- migrate:up\nINSERT INTO t VALUES ('open);\n");
      const read = readMigrationDir(path.join(dir, 'spec.yaml'), { dir: 'm' });
      expect(read.files.map((f) => f.version)).toEqual(['001']);
      expect(read.diagnostics).toEqual([{ file: path.join(dir, 'm', '002_b.sql'), line: 2, col: 23, severity: 'error', message: 'unterminated string literal' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
