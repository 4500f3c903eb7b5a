import { describe, expect, it } from 'vitest';
import { checksum, compareVersions, parseFileName, parseMigration, splitStatements } from './parse.js';

describe('parseFileName', () => {
  it('takes <version>_<slug>.sql, sequence or timestamp', () => {
    expect(parseFileName('20240101120000_create_users.sql')).toEqual({ version: '20240101120000', name: 'create_users' });
    expect(parseFileName('001_init.sql')).toEqual({ version: '001', name: 'init' });
  });
  it('refuses other names', () => {
    for (const n of ['create_users.sql', '2024-01-01_x.sql', '001_.sql', '001_x.SQL', '001x.sql']) expect(parseFileName(n), n).toBeNull();
  });
  it('compares versions as numbers', () => {
    expect(compareVersions('9', '10')).toBe(-1);
    expect(compareVersions('010', '10')).toBe(0);
    expect(compareVersions('20240101120000', '20231231235959')).toBe(1);
  });
});

describe('parseMigration', () => {
  it('splits up and down with their first lines', () => {
    const text = '-- a header comment\n-- migrate:up\nCREATE TABLE t (id int);\n\n-- migrate:down\nDROP TABLE t;\n';
    const { migration, problems } = parseMigration(text);
    expect(problems).toEqual([]);
    expect(migration).toEqual({
      up: { sql: 'CREATE TABLE t (id int);', line: 3, transaction: true },
      down: { sql: 'DROP TABLE t;', line: 6, transaction: true },
    });
  });
  it('reads transaction:false on either marker', () => {
    const { migration } = parseMigration('-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY i;\n');
    expect(migration?.up.transaction).toBe(false);
    expect(migration?.down?.transaction).toBe(false);
  });
  it('takes a missing or statement-less down section as none', () => {
    expect(parseMigration('-- migrate:up\nSELECT 1;\n').migration?.down).toBeNull();
    expect(parseMigration('-- migrate:up\nSELECT 1;\n-- migrate:down\n-- nothing to undo\n\n').migration?.down).toBeNull();
  });
  it('checksums the up section only, ignoring surrounding blank space', () => {
    const a = parseMigration('-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n').migration!;
    const b = parseMigration('-- migrate:up\n\nSELECT 1;\n\n\n-- migrate:down\nSELECT 3;\n').migration!;
    expect(checksum(a.up.sql)).toBe(checksum(b.up.sql));
    expect(checksum(a.up.sql)).not.toBe(checksum('SELECT 2;'));
  });
  it.each([
    ['no up section', 'CREATE TABLE t (id int);\n', 1, 1, 'SQL before "-- migrate:up"'],
    ['an empty file', '', 1, 1, 'no "-- migrate:up" section'],
    ['down first', '-- migrate:down\nDROP TABLE t;\n-- migrate:up\nCREATE TABLE t ();\n', 1, 1, '"-- migrate:down" before "-- migrate:up"'],
    ['a second up', '-- migrate:up\nSELECT 1;\n-- migrate:up\nSELECT 2;\n', 3, 1, 'a second "-- migrate:up" (the first is at line 1) with no "-- migrate:down" between them'],
    ['an unknown option', '-- migrate:up transaction:maybe\nSELECT 1;\n', 1, 15, 'unknown option "transaction:maybe"'],
    ['an unknown section', '-- migrate:up\nSELECT 1;\n-- migrate:sideways\n', 3, 4, 'unknown section "migrate:sideways"'],
    ['an unterminated string', "-- migrate:up\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES ('oops);\n", 3, 23, 'unterminated string literal'],
    ['an unterminated dollar quote', '-- migrate:up\nDO $body$ BEGIN PERFORM 1; END;\n', 2, 4, 'unterminated dollar-quoted string $body$'],
    ['an unterminated comment', '-- migrate:up\nSELECT 1; /* outer /* inner */\n', 2, 11, 'unterminated /* comment'],
  ])('reports %s with its line and column', (_name, text, line, col, message) => {
    const { migration, problems } = parseMigration(text);
    expect(migration).toBeUndefined();
    expect(problems[0]).toMatchObject({ line, col });
    expect(problems[0]!.message).toContain(message);
  });
});

describe('splitStatements', () => {
  const texts = (sql: string) => splitStatements(sql).statements.map((s) => s.text);

  it('splits at top-level semicolons, with each statement\'s line and column', () => {
    const r = splitStatements('CREATE TABLE a (x int);\n  INSERT INTO a VALUES (1); -- trailing\n\n/* c */ SELECT 2', 10);
    expect(r.problems).toEqual([]);
    expect(r.statements).toEqual([
      { text: 'CREATE TABLE a (x int)', line: 10, col: 1 },
      { text: 'INSERT INTO a VALUES (1)', line: 11, col: 3 },
      { text: 'SELECT 2', line: 13, col: 9 },
    ]);
  });
  it('does not split inside quotes, identifiers, comments or dollar quotes', () => {
    expect(texts(`INSERT INTO "we;ird" VALUES ('a;b', 'it''s;', E'x\\';y');\nSELECT 1`)).toEqual([`INSERT INTO "we;ird" VALUES ('a;b', 'it''s;', E'x\\';y')`, 'SELECT 1']);
    expect(texts('CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\nDO $x$ BEGIN PERFORM 1; END $x$;')).toHaveLength(2);
    expect(texts('SELECT 1 /* a; /* nested; */ b; */ ;\nSELECT $1::int; SELECT a$b FROM t')).toEqual(['SELECT 1 /* a; /* nested; */ b; */', 'SELECT $1::int', 'SELECT a$b FROM t']);
  });
  it('keeps an SQL-standard function body (BEGIN ATOMIC ... END) whole', () => {
    const sql = 'CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END; END;\nSELECT f(1);';
    expect(texts(sql)).toEqual(['CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END; END', 'SELECT f(1)']);
  });
  it('skips comment-only pieces', () => {
    expect(texts('-- only a comment\n;\n;SELECT 1;\n-- after')).toEqual(['SELECT 1']);
  });
});

/**
 * dbmate's own cases (pkg/dbmate/migration_test.go, TestParseMigrationContents), with what dbmate
 * answers; and the file `dbmate new` writes (migrationTemplate in pkg/dbmate/db.go).
 */
describe('parseMigration reads what dbmate reads', () => {
  const ok = (text: string) => {
    const { migration, problems } = parseMigration(text);
    expect(problems).toEqual([]);
    return migration!;
  };
  const refused = (text: string, line: number, message: string) => {
    const { migration, problems } = parseMigration(text);
    expect(migration).toBeUndefined();
    expect(problems[0]).toMatchObject({ line });
    expect(problems[0]!.message).toContain(message);
  };

  it('the empty file of `dbmate new`: a migration that runs nothing, with no down section', () => {
    const m = ok('-- migrate:up\n\n\n-- migrate:down\n\n');
    expect(m.up).toEqual({ sql: '', line: 2, transaction: true });
    expect(m.down).toBeNull();
    expect(splitStatements(m.up.sql).statements).toEqual([]);
  });

  it('support the typical use case (no newline at the end)', () => {
    const m = ok('-- migrate:up\ncreate table users (id serial, name text);\n-- migrate:down\ndrop table users;');
    expect([m.up.sql, m.down?.sql]).toEqual(['create table users (id serial, name text);', 'drop table users;']);
  });

  it("do not require space between '--' and 'migrate'", () => {
    const m = ok('\n--migrate:up\ncreate table users (id serial, name text);\n\n--migrate:down\ndrop table users;\n');
    expect([m.up.line, m.down?.line]).toEqual([3, 6]);
  });

  it('require up before down', () => {
    refused('-- migrate:down\ndrop table users;\n-- migrate:up\ncreate table users (id serial, name text);\n', 1, '"-- migrate:down" before "-- migrate:up"');
  });

  it('support disabling transactions: five up/down sections, each with its own option, run in file order', () => {
    const colors = ['orange', 'green', 'yellow', 'blue', 'purple'];
    const opts: [string, string][] = [[' transaction:false', ' transaction:false'], [' transaction:true', ' transaction:true'], ['', ''], [' transaction:false', ''], ['', ' transaction:false']];
    const text = colors.map((c, i) => `-- migrate:up${opts[i]![0]}\nALTER TYPE colors ADD VALUE '${c}' AFTER 'red';\n-- migrate:down${opts[i]![1]}\nALTER TYPE colors ADD VALUE '${c}' AFTER 'red';\n`).join('');
    const m = ok(text);
    expect(m.up.blocks!.map((b) => [b.line, b.transaction, b.sql])).toEqual(colors.map((c, i) => [4 * i + 2, opts[i]![0] !== ' transaction:false', `ALTER TYPE colors ADD VALUE '${c}' AFTER 'red';`]));
    expect(m.down!.blocks!.map((b) => [b.line, b.transaction])).toEqual(colors.map((_c, i) => [4 * i + 4, opts[i]![1] !== ' transaction:false']));
    expect(m.up.transaction).toBe(false);
    expect(m.up.sql.split('\n')).toHaveLength(5);
    expect(checksum(m.up.sql)).not.toBe(checksum(m.up.blocks![0]!.sql));
  });

  it('several statements in one section', () => {
    const m = ok('-- migrate:up\ncreate table a (id int);\ncreate table b (id int);\n-- migrate:down\ndrop table b;\ndrop table a;\n');
    expect(splitStatements(m.up.sql, m.up.line).statements.map((s) => [s.line, s.text])).toEqual([[2, 'create table a (id int)'], [3, 'create table b (id int)']]);
  });

  it('require migrate blocks', () => {
    refused("\nALTER TABLE users\nADD COLUMN status status_type DEFAULT 'active';\n", 2, 'SQL before "-- migrate:up"');
  });

  it('require an up block', () => {
    refused('-- migrate:down\ndrop table users;\n', 1, '"-- migrate:down" before "-- migrate:up"');
  });

  it('a missing down block: dbmate refuses it, reconcile takes it as a migration that cannot be reverted (as before)', () => {
    expect(ok('-- migrate:up\ncreate table users (id serial, name text);\n').down).toBeNull();
  });

  it('allow leading comments and whitespace preceding the migrate blocks', () => {
    const m = ok("\n-- This migration creates the users table.\n-- It'll drop it in the event of a rollback.\n\n-- migrate:up\ncreate table users (id serial, name text);\n\n-- migrate:down\ndrop table users;\n");
    expect(m.up.sql).toBe('create table users (id serial, name text);');
  });

  it('do not allow arbitrary statements preceding the migrate blocks', () => {
    refused("\n-- create status_type\nCREATE TYPE status_type AS ENUM ('active', 'inactive');\n\n-- migrate:up\nALTER TABLE users\nADD COLUMN status status_type DEFAULT 'active';\n\n-- migrate:down\nALTER TABLE users\nDROP COLUMN status;\n", 3, 'SQL before "-- migrate:up"');
  });

  it('Windows CR/LF line endings, with and without options', () => {
    const a = ok('-- migrate:up\r\ncreate table users (id serial, name text);\r\n-- migrate:down\r\ndrop table users;\r\n');
    const b = ok('-- migrate:up transaction:true\r\ncreate table users (id serial, name text);\r\n-- migrate:down transaction:true\r\ndrop table users;\r\n');
    expect([a.up.sql, a.up.transaction, b.up.sql, b.up.transaction, b.down?.transaction]).toEqual(['create table users (id serial, name text);', true, 'create table users (id serial, name text);', true, true]);
  });

  it('require a down block in each section', () => {
    refused('-- migrate:up\ncreate table users (id serial, name text);\n-- migrate:up\ncreate table statuses (id serial, name text);\n-- migrate:down\ndrop table statuses;\n', 3, 'a second "-- migrate:up"');
    refused('-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n-- migrate:up\nSELECT 3;\n', 5, 'has no "-- migrate:down" after it');
  });

  it('require an up block in each section', () => {
    refused('-- migrate:up\ncreate table users (id serial, name text);\n-- migrate:down\ndrop table users;\n-- migrate:down\ndrop table statuses;\n', 5, 'a second "-- migrate:down" (the first is at line 3)');
  });
});
