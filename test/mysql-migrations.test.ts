/**
 * The migrations kind and `db inspect` on MySQL: the built CLI against a real MariaDB server
 * (test/helpers/mariadb.ts), the URL given through an environment variable, an empty temporary
 * --root per run. Every output of every command is checked for the database password.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import mysql from 'mysql2/promise';
import { runCli, type CliResult } from './helpers/cli.js';
import { startMariaDb, type MariaDb } from './helpers/mariadb.js';
import { mysqlLockName } from '../src/resources/migrations/mysql.js';

let db: MariaDb;
let dbCount = 0;
beforeAll(async () => {
  db = await startMariaDb();
}, 120_000);
afterAll(async () => db?.stop());

const M1 = `-- migrate:up
CREATE TABLE users (
  id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key',
  email varchar(200) NOT NULL COMMENT 'unique, lower case',
  balance decimal(12,2) DEFAULT 0,
  UNIQUE KEY users_email (email)
) COMMENT = 'people who log in';

-- migrate:down
DROP TABLE users;
`;
const M2 = `-- migrate:up
ALTER TABLE users ADD COLUMN name text;
CREATE TABLE audit (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, what varchar(50) NOT NULL DEFAULT 'it''s; done');

-- migrate:down
DROP TABLE audit;
ALTER TABLE users DROP COLUMN name;
`;
const M3 = `-- migrate:up
CREATE TABLE orders (
  id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id bigint unsigned NOT NULL,
  total decimal(10,2),
  KEY orders_user (user_id),
  CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
);

-- migrate:down
DROP TABLE orders;
`;

interface Env {
  dir: string;
  spec: string;
  root: string;
  db: string;
  url: string;
  migrations: string;
  write(name: string, text: string): void;
  cli(args: string[], root?: string): Promise<CliResult>;
  sql(query: string): string;
}

let t: Env;
const outputs: string[] = [];

function specText(extra = ''): string {
  return `host: db1\nmigrations:\n  - name: app\n    database: {env: APP_DATABASE_URL}\n    dir: migrations/app\n${extra}`;
}

function setup(scheme: 'mysql' | 'mariadb' = 'mysql'): Env {
  const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-mysql-migrations-'));
  const name = `app_${process.pid}_${++dbCount}`;
  db.sql(`CREATE DATABASE ${name}`);
  const migrations = path.join(dir, 'migrations', 'app');
  mkdirSync(migrations, { recursive: true });
  const root = path.join(dir, 'root');
  mkdirSync(root);
  const spec = path.join(dir, 'db1.yaml');
  writeFileSync(spec, specText());
  const url = db.url(name, scheme);
  return {
    dir,
    spec,
    root,
    db: name,
    url,
    migrations,
    write: (file, text) => writeFileSync(path.join(migrations, file), text),
    cli: async (args, r = root) => {
      const res = await runCli([...args, ...(args[0] === 'db' || args[0] === 'validate' ? [] : ['--root', r])], { env: { APP_DATABASE_URL: url, RECONCILE_NO_CACHE: '1' } });
      outputs.push(res.stdout, res.stderr);
      return res;
    },
    sql: (query) => db.sql(query, name),
  };
}

const setSpec = (extra: string) => writeFileSync(t.spec, specText(extra));
const rows = (query: string) => t.sql(query).split('\n').filter(Boolean);
const versions = () => rows("SELECT version FROM reconcile_migrations WHERE status = 'applied' ORDER BY version");
const tables = () => rows('SHOW TABLES').filter((x) => x !== 'reconcile_migrations').sort();

function writeThree(): void {
  t.write('20240101000000_create_users.sql', M1);
  t.write('20240102000000_add_name_and_audit.sql', M2);
  t.write('20240103000000_create_orders.sql', M3);
}

beforeEach(() => {
  t = setup();
});
afterEach(() => {
  for (const o of outputs) expect(o).not.toContain(db.password);
  outputs.length = 0;
  rmSync(t.dir, { recursive: true, force: true });
});

describe('reconcile migrations against a real MariaDB', () => {
  it('plans three pending migrations with their SQL, says they are not transactional, applies them, then is in sync', async () => {
    writeThree();
    const p = await t.cli(['plan', t.spec]);
    expect(p.stderr).toBe('');
    expect(p.exitCode).toBe(2);
    const addresses = [...p.stdout.matchAll(/^> (migrations\[app\]\/\S+)/gm)].map((m) => m[1]);
    expect(addresses).toEqual(['migrations[app]/20240101000000_create_users', 'migrations[app]/20240102000000_add_name_and_audit', 'migrations[app]/20240103000000_create_orders']);
    expect(p.stdout).toContain('+++ b/migrations/app/20240101000000_create_users.sql (migrate:up)');
    expect(p.stdout).toContain("    +  email varchar(200) NOT NULL COMMENT 'unique, lower case',");
    expect(p.stdout).toContain('    +ALTER TABLE users ADD COLUMN name text;');
    expect(p.stdout).toContain('    +  CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)');
    expect(p.stdout).not.toContain('DROP TABLE');
    // Said of every migration, not once for the plan.
    expect(p.stdout.match(/not transactional on MySQL: a failure leaves the statements before it applied/g)).toHaveLength(3);
    expect(p.stdout).toContain('3 changes pending (3 run)');

    const a = await t.cli(['apply', t.spec, '--yes']);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toContain('applied 20240101000000_create_users, applied 20240102000000_add_name_and_audit, applied 20240103000000_create_orders');
    expect(a.stdout).toContain('converged');

    const again = await t.cli(['plan', t.spec]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('in sync');

    const recorded = rows('SELECT entry, version, name, checksum, applied_by, stamped, status, fencing_token FROM reconcile_migrations ORDER BY version').map((r) => r.split('\t'));
    expect(recorded.map((r) => r.slice(0, 3))).toEqual([
      ['app', '20240101000000', 'create_users'],
      ['app', '20240102000000', 'add_name_and_audit'],
      ['app', '20240103000000', 'create_orders'],
    ]);
    for (const [, , , checksum, by, stamped, status, token] of recorded) {
      expect(checksum).toMatch(/^[0-9a-f]{64}$/);
      expect([by, stamped, status]).toEqual(['db1', '0', 'applied']);
      expect(Number(token)).toBeGreaterThan(0);
    }
    expect(tables()).toEqual(['audit', 'orders', 'users']);
    // The default with a quote and a semicolon was one statement, not two.
    expect(t.sql("SELECT COLUMN_DEFAULT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'audit' AND COLUMN_NAME = 'what'")).toBe("'it''s; done'");
  });

  it('runs what the server parses as one statement as one: stored programs, escapes, comments, several dbmate sections', async () => {
    t.write(
      '001_hostile.sql',
      [
        '-- migrate:up',
        '# a MySQL comment; not a statement',
        "CREATE TABLE notes (id int AUTO_INCREMENT PRIMARY KEY, body varchar(100) NOT NULL DEFAULT 'it\\'s; fine', `semi;colon` int DEFAULT 0);",
        'CREATE PROCEDURE add_note(IN n int)',
        'BEGIN',
        '  DECLARE i int DEFAULT 0;',
        '  WHILE i < n DO',
        "    IF i % 2 = 0 THEN INSERT INTO notes (body) VALUES (CONCAT('even; ', i)); ELSE INSERT INTO notes (body) VALUES ('odd'); END IF;",
        '    SET i = i + 1;',
        '  END WHILE;',
        'END;',
        'CREATE TRIGGER notes_upper BEFORE INSERT ON notes FOR EACH ROW BEGIN SET NEW.body = UPPER(NEW.body); END;',
        '/*!40101 SET @reconcile_marker = 1 */;',
        'CALL add_note(3);',
        '-- migrate:down',
        'DROP TABLE notes;',
        '-- migrate:up',
        "INSERT INTO notes (body) VALUES ('second -- section');",
        '-- migrate:down',
        'DROP PROCEDURE add_note;',
        '',
      ].join('\n'),
    );
    const a = await t.cli(['apply', t.spec, '--yes']);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    expect(rows('SELECT body FROM notes ORDER BY id')).toEqual(['EVEN; 0', 'ODD', 'EVEN; 2', 'SECOND -- SECTION']);
    expect(t.sql("SELECT COLUMN_DEFAULT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'notes' AND COLUMN_NAME = 'body'")).toBe("'it''s; fine'"); // the server stores it with the quote doubled
    expect(versions()).toEqual(['001']);
    expect((await t.cli(['plan', t.spec])).exitCode).toBe(0);
  });

  it('a migration whose second statement fails: apply names it and what ran before; it is recorded as failed, and the next plan says what to do', async () => {
    t.write('001_a.sql', '-- migrate:up\nCREATE TABLE a (id int);\n');
    t.write('002_half.sql', "-- migrate:up\nCREATE TABLE partial (id int);\n\nINSERT INTO nope VALUES (1);\nCREATE TABLE never (id int);\n");
    t.write('003_c.sql', '-- migrate:up\nCREATE TABLE c (id int);\n');
    const p = await t.cli(['plan', t.spec]);
    expect(p.exitCode).toBe(2);
    const half = p.stdout.slice(p.stdout.indexOf('migrations[app]/002_half'), p.stdout.indexOf('migrations[app]/003_c'));
    expect(half).toContain('not transactional on MySQL: a failure leaves the statements before it applied');

    const a = await t.cli(['apply', t.spec, '--yes']);
    expect(a.exitCode).toBe(1);
    expect(a.stdout).toContain(`migrations/app/002_half.sql: migration failed: Table '${t.db}.nope' doesn't exist (SQLSTATE 42S02, ER_NO_SUCH_TABLE)`);
    expect(a.stdout).not.toContain('rolled back');
    expect(a.stdout).toContain('statement at migrations/app/002_half.sql:4: INSERT INTO nope VALUES (1)');
    expect(a.stdout).toContain('ran before it and stay applied (1):\n');
    expect(a.stdout).toContain('    migrations/app/002_half.sql:2: CREATE TABLE partial (id int)');
    expect(a.stdout).toContain('recorded as failed (not applied) in reconcile_migrations');
    expect(a.stdout).toContain('done before it (these stay): applied 001_a');
    expect(a.stdout).toContain('not run: 003_c');
    expect(tables()).toEqual(['a', 'partial']);
    // Never recorded as applied: its row says failed, with the statement and how many ran before.
    expect(versions()).toEqual(['001']);
    expect(rows("SELECT version, status, failed_op, ran_before, failed_statement FROM reconcile_migrations WHERE version = '002'")).toEqual([
      '002\tfailed\tup\t1\tmigrations/app/002_half.sql:4: INSERT INTO nope VALUES (1)',
    ]);

    const refused = await t.cli(['plan', t.spec]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('migrations[app]: migrations/app/002_half.sql: its up section failed ');
    expect(refused.stderr).toContain(`migrations/app/002_half.sql:4: INSERT INTO nope VALUES (1): Table '${t.db}.nope' doesn't exist`);
    expect(refused.stderr).toContain('not transactional on MySQL: 1 statement before it ran and stay applied.');
    expect(refused.stderr).toContain('Fix the database by hand, then say so on migrations[app]:');
    expect(refused.stderr).toContain('stamp: "002" when the database now holds all of its up section');
    expect(refused.stderr).toContain('retry: "002" to run its up section again');
    expect(refused.stderr).not.toMatch(/^\s+at /m);
    // apply refuses the same way, and runs nothing.
    const again = await t.cli(['apply', t.spec, '--yes']);
    expect(again.exitCode).toBe(1);
    expect(tables()).toEqual(['a', 'partial']);

    // The operator undoes what ran, fixes the file and says retry: it runs again, then 003.
    t.sql('DROP TABLE partial');
    t.write('002_half.sql', "-- migrate:up\nCREATE TABLE partial (id int);\n\nINSERT INTO partial VALUES (1);\nCREATE TABLE never (id int);\n");
    setSpec('    retry: "002"\n');
    const retry = await t.cli(['plan', t.spec]);
    expect(retry.exitCode).toBe(2);
    expect(retry.stdout).toContain('retry: 002 is recorded as failed; its up section runs again from its first statement');
    const fixed = await t.cli(['apply', t.spec, '--yes']);
    expect(fixed.stderr).toBe('');
    expect(fixed.exitCode).toBe(0);
    expect(fixed.stdout).toContain('applied 002_half, applied 003_c');
    expect(versions()).toEqual(['001', '002', '003']);
    expect(rows("SELECT COUNT(*) FROM reconcile_migrations WHERE status <> 'applied'")).toEqual(['0']);
    const done = await t.cli(['plan', t.spec]);
    expect(done.exitCode).toBe(0);
    expect(done.stderr + done.stdout).toContain('retry: 002 is not recorded as failed (any more): remove retry from the entry');
  });

  it('a failed migration finished by hand is resolved with stamp: recorded as applied (stamped), not run', async () => {
    t.write('001_half.sql', '-- migrate:up\nCREATE TABLE p (id int);\nINSERT INTO nope VALUES (1);\n');
    t.write('002_b.sql', '-- migrate:up\nCREATE TABLE b (id int);\n');
    expect((await t.cli(['apply', t.spec, '--yes'])).exitCode).toBe(1);
    expect((await t.cli(['plan', t.spec])).exitCode).toBe(1);
    setSpec('    stamp: "001"\n');
    const p = await t.cli(['plan', t.spec]);
    expect(p.exitCode).toBe(2);
    expect(p.stdout).toContain('stamp migrations/app/001_half.sql as applied without running it (stamp: 001)');
    const a = await t.cli(['apply', t.spec, '--yes']);
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toContain('stamped 001_half, applied 002_b');
    expect(rows('SELECT version, status, stamped FROM reconcile_migrations ORDER BY version')).toEqual(['001\tapplied\t1', '002\tapplied\t0']);
    expect((await t.cli(['plan', t.spec])).exitCode).toBe(0);
  });

  it('a first statement that fails leaves nothing of the migration: it stays pending, not recorded', async () => {
    t.write('001_bad.sql', '-- migrate:up\nINSERT INTO nope VALUES (1);\nCREATE TABLE x (id int);\n');
    const a = await t.cli(['apply', t.spec, '--yes']);
    expect(a.exitCode).toBe(1);
    expect(a.stdout).toContain('it was the first statement: nothing of this migration ran, it stays pending');
    expect(rows('SELECT COUNT(*) FROM reconcile_migrations')).toEqual(['0']);
    t.write('001_bad.sql', '-- migrate:up\nCREATE TABLE x (id int);\n');
    expect((await t.cli(['apply', t.spec, '--yes'])).exitCode).toBe(0);
    expect(versions()).toEqual(['001']);
  });

  it('names the line of a syntax error inside a statement', async () => {
    t.write('001_c.sql', '-- migrate:up\nCREATE TABLE c (id int);\nSELECT id,\n       FROM FROM c;\n');
    const a = await t.cli(['apply', t.spec, '--yes']);
    expect(a.exitCode).toBe(1);
    expect(a.stdout).toContain('(SQLSTATE 42000, ER_PARSE_ERROR)');
    expect(a.stdout).toContain('statement at migrations/app/001_c.sql:4: SELECT id, FROM FROM c');
  });

  it('runs each migration exactly once when two hosts apply at the same moment: the second waits on GET_LOCK, then does nothing', async () => {
    t.write('001_side.sql', "-- migrate:up\nCREATE TABLE side (who varchar(10));\nINSERT INTO side VALUES ('001');\n");
    t.write('002_slow.sql', "-- migrate:up\nDO SLEEP(2.5);\nINSERT INTO side VALUES ('002');\n");
    t.write('003_more.sql', "-- migrate:up\nINSERT INTO side VALUES ('003');\n");
    const root2 = path.join(t.dir, 'root2');
    mkdirSync(root2);
    const [a, b] = await Promise.all([t.cli(['apply', t.spec, '--yes']), t.cli(['apply', t.spec, '--yes'], root2)]);
    expect([a.exitCode, b.exitCode, a.stderr, b.stderr]).toEqual([0, 0, '', '']);
    expect(rows('SELECT who FROM side ORDER BY who')).toEqual(['001', '002', '003']);
    expect(versions()).toEqual(['001', '002', '003']);
    const outs = [a.stdout, b.stdout];
    expect(outs.filter((o) => o.includes('applied 001_side, applied 002_slow, applied 003_more'))).toHaveLength(1);
    const second = outs.filter((o) => /^ {2}already {2}migrate app to head \(003\): \d up {2}already done by another run: (001_side, )?002_slow, 003_more/m.test(o));
    expect(second, outs.join('\n----\n')).toHaveLength(1);
  });

  it('gives up waiting for the lock another session holds at the step deadline, naming it, and runs nothing', async () => {
    t.write('001_a.sql', '-- migrate:up\nCREATE TABLE a (id int);\n');
    writeFileSync(t.spec, `${readFileSync(t.spec, 'utf8')}watchdog: {stepTimeout: 3s}\n`);
    const other = await mysql.createConnection({ host: '127.0.0.1', port: db.port, user: 'reconcile', password: db.password, database: t.db });
    try {
      expect((await other.query('SELECT GET_LOCK(?, 0) AS l', [mysqlLockName(t.db)]))[0]).toEqual([{ l: 1 }]);
      const started = Date.now();
      const a = await t.cli(['apply', t.spec, '--yes']);
      expect(a.exitCode).toBe(1);
      expect(a.stdout).toContain(`another run holds the migrations lock of reconcile@127.0.0.1:${db.port}/${t.db} (GET_LOCK on reconcile_migrations.<database>)`);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(tables()).toEqual([]);
    } finally {
      await other.end();
    }
    expect((await t.cli(['apply', t.spec, '--yes'])).exitCode).toBe(0);
  });

  it('goes down to a target with --allow-destructive (down sections in reverse), then up again; stamp adopts a hand-migrated database', async () => {
    t.write('001_log.sql', '-- migrate:up\nCREATE TABLE log (id int AUTO_INCREMENT PRIMARY KEY, what text);\n-- migrate:down\nDROP TABLE log;\n');
    for (const v of ['002', '003', '004']) {
      t.write(`${v}_t${v}.sql`, `-- migrate:up\nINSERT INTO log (what) VALUES ('up ${v}');\nCREATE TABLE t${v} (id int);\n-- migrate:down\nINSERT INTO log (what) VALUES ('down ${v}');\nDROP TABLE t${v};\n`);
    }
    expect((await t.cli(['apply', t.spec, '--yes'])).exitCode).toBe(0);
    setSpec('    target: "002"\n');
    const p = await t.cli(['plan', t.spec]);
    expect(p.exitCode).toBe(2);
    expect(p.stdout).toContain('> migrations[app]/004_t004  run, risk destructive');
    expect((await t.cli(['apply', t.spec, '--yes'])).exitCode).toBe(1); // destructive: refused
    const a = await t.cli(['apply', t.spec, '--yes', '--allow-destructive']);
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toContain('reverted 004_t004, reverted 003_t003');
    expect(rows('SELECT what FROM log ORDER BY id')).toEqual(['up 002', 'up 003', 'up 004', 'down 004', 'down 003']);
    expect(versions()).toEqual(['001', '002']);
    setSpec('');
    expect((await t.cli(['apply', t.spec, '--yes'])).exitCode).toBe(0);
    expect(versions()).toEqual(['001', '002', '003', '004']);

    // Another database, migrated by hand up to 002: stamp records 001 and 002, runs 003 and 004.
    const other = setup('mariadb');
    const keep = t;
    t = other;
    try {
      for (const f of ['001_log.sql', '002_t002.sql', '003_t003.sql', '004_t004.sql']) writeFileSync(path.join(t.migrations, f), readFileSync(path.join(keep.migrations, f)));
      t.sql('CREATE TABLE log (id int AUTO_INCREMENT PRIMARY KEY, what text); CREATE TABLE t002 (id int)');
      setSpec('    stamp: "002"\n');
      const s = await t.cli(['apply', t.spec, '--yes']);
      expect(s.stderr).toBe('');
      expect(s.exitCode).toBe(0);
      expect(s.stdout).toContain('stamped 001_log, stamped 002_t002, applied 003_t003, applied 004_t004');
      expect(rows('SELECT version, stamped FROM reconcile_migrations ORDER BY version')).toEqual(['001\t1', '002\t1', '003\t0', '004\t0']);
    } finally {
      rmSync(t.dir, { recursive: true, force: true });
      t = keep;
    }
  });

  it('a down section that fails halfway is recorded as failed too; retry runs it again', async () => {
    t.write('001_a.sql', '-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n');
    t.write('002_b.sql', '-- migrate:up\nCREATE TABLE b1 (id int);\nCREATE TABLE b2 (id int);\n-- migrate:down\nDROP TABLE b2;\nDROP TABLE nope;\nDROP TABLE b1;\n');
    expect((await t.cli(['apply', t.spec, '--yes'])).exitCode).toBe(0);
    setSpec('    target: "001"\n');
    const a = await t.cli(['apply', t.spec, '--yes', '--allow-destructive']);
    expect(a.exitCode).toBe(1);
    expect(a.stdout).toContain('migrations/app/002_b.sql: down section failed: ');
    expect(a.stdout).toContain('statement at migrations/app/002_b.sql:6: DROP TABLE nope');
    expect(a.stdout).toContain('    migrations/app/002_b.sql:5: DROP TABLE b2\n');
    expect(tables()).toEqual(['a', 'b1']);
    expect(rows('SELECT version, status, failed_op FROM reconcile_migrations ORDER BY version')).toEqual(['001\tapplied\tNULL', '002\tfailed\tdown']);
    const refused = await t.cli(['plan', t.spec]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('migrations/app/002_b.sql: its down section failed ');
    expect(refused.stderr).toContain('retry: "002" to run its down section again');
    expect(refused.stderr).toContain("when you finished the down section by hand, remove its row (DELETE FROM reconcile_migrations WHERE entry = 'app' AND version = '002'), or");

    t.sql('CREATE TABLE b2 (id int)'); // undo what ran of it
    t.write('002_b.sql', '-- migrate:up\nCREATE TABLE b1 (id int);\nCREATE TABLE b2 (id int);\n-- migrate:down\nDROP TABLE b2;\nDROP TABLE b1;\n');
    setSpec('    target: "001"\n    retry: "002"\n');
    const r = await t.cli(['apply', t.spec, '--yes', '--allow-destructive']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('reverted 002_b');
    expect(tables()).toEqual(['a']);
    expect(versions()).toEqual(['001']);
    expect(rows('SELECT COUNT(*) FROM reconcile_migrations')).toEqual(['1']);
  });

  it('db inspect lists tables and columns (types, lengths, keys, defaults, auto_increment, comments) in the PostgreSQL JSON shape', async () => {
    writeThree();
    expect((await t.cli(['apply', t.spec, '--yes'])).exitCode).toBe(0);
    const r = await t.cli(['db', 'inspect', t.spec, 'app', '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(Object.keys(schema)).toEqual(['formatVersion', 'migrations', 'database', 'tables']);
    expect(schema).toMatchObject({ formatVersion: 1, migrations: 'app', database: t.db });
    expect(schema.tables.map((x: { name: string }) => x.name)).toEqual(['audit', 'orders', 'reconcile_migrations', 'users']);
    // Every table and column has exactly the keys of PostgreSQL's inspection.
    for (const table of schema.tables) {
      expect(Object.keys(table)).toEqual(['schema', 'name', 'comment', 'columns']);
      for (const c of table.columns) expect(Object.keys(c).sort()).toEqual(['autoIncrement', 'comment', 'default', 'key', 'length', 'name', 'nullable', 'precision', 'primaryKey', 'scale', 'type']);
    }
    const users = schema.tables.find((x: { name: string }) => x.name === 'users');
    expect(users).toMatchObject({ schema: t.db, comment: 'people who log in' });
    expect(users.columns.map((c: { name: string }) => c.name)).toEqual(['id', 'email', 'balance', 'name']);
    expect(users.columns).toEqual([
      { name: 'id', type: 'bigint(20) unsigned', length: null, precision: null, scale: null, primaryKey: true, key: 'primary', nullable: false, default: null, autoIncrement: true, comment: 'surrogate key' },
      { name: 'email', type: 'varchar(200)', length: 200, precision: null, scale: null, primaryKey: false, key: 'unique', nullable: false, default: null, autoIncrement: false, comment: 'unique, lower case' },
      { name: 'balance', type: 'decimal(12,2)', length: null, precision: 12, scale: 2, primaryKey: false, key: null, nullable: true, default: '0.00', autoIncrement: false, comment: null },
      { name: 'name', type: 'text', length: 65535, precision: null, scale: null, primaryKey: false, key: null, nullable: true, default: null, autoIncrement: false, comment: null },
    ]);
    const orders = schema.tables.find((x: { name: string }) => x.name === 'orders');
    expect(orders.comment).toBeNull();
    expect(orders.columns.find((c: { name: string }) => c.name === 'user_id')).toMatchObject({ key: 'index', primaryKey: false, autoIncrement: false });
    const audit = schema.tables.find((x: { name: string }) => x.name === 'audit');
    expect(audit.columns[1]).toMatchObject({ name: 'what', type: 'varchar(50)', length: 50, default: "'it''s; done'", nullable: false });

    const text = await t.cli(['db', 'inspect', t.spec]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^TABLE\s+COLUMN\s+TYPE\s+LENGTH\s+PRECISION\s+SCALE\s+KEY\s+NULLABLE\s+DEFAULT\s+AUTO_INCREMENT\s+COMMENT$/);
    expect(text.stdout).toMatch(new RegExp(`^${t.db}\\.users\\s+id\\s+bigint\\(20\\) unsigned\\s+primary\\s+no\\s+yes\\s+surrogate key$`, 'm'));
    expect(text.stdout).toMatch(new RegExp(`^${t.db}\\.users\\s+balance\\s+decimal\\(12,2\\)\\s+12\\s+2\\s+yes\\s+0\\.00$`, 'm'));
    expect(text.stdout).toContain(`${t.db}.users: people who log in`);
  });

  it('loads the mysql2 driver only when a MySQL database is used (PostgreSQL or no migrations: never)', async () => {
    t.write('001_a.sql', '-- migrate:up\nCREATE TABLE a (id int);\n');
    const noMysql2 = { NODE_OPTIONS: `--import=${path.join(import.meta.dirname, 'helpers', 'no-mysql2.mjs')}`, RECONCILE_NO_CACHE: '1' };
    const plan = (url: string, spec = t.spec) => runCli(['plan', spec, '--root', t.root], { env: { ...noMysql2, APP_DATABASE_URL: url } });
    // The hook works: with a MySQL URL the driver is imported and refused.
    const mysqlPlan = await plan(t.url);
    expect(mysqlPlan.exitCode).toBe(1);
    expect(mysqlPlan.stderr).toContain('the mysql2 driver was loaded');
    // A PostgreSQL URL (nothing listens on port 1: the connection is refused) never imports it.
    const pgPlan = await plan('postgres://u:p@127.0.0.1:1/app');
    expect(pgPlan.exitCode).toBe(1);
    expect(pgPlan.stderr).toContain('migrations[app]: cannot connect to u@127.0.0.1:1/app');
    expect(pgPlan.stderr).not.toContain('mysql2');
    const bare = path.join(t.dir, 'bare.yaml');
    writeFileSync(bare, 'host: db1\ntimezone: UTC\n');
    const none = await plan(t.url, bare);
    expect(none.stderr).toBe('');
    expect([0, 2]).toContain(none.exitCode);
    outputs.push(mysqlPlan.stdout, mysqlPlan.stderr, pgPlan.stdout, pgPlan.stderr, none.stdout, none.stderr);
  });

  it('refuses a database URL of an unknown scheme without showing it', async () => {
    t.write('001_a.sql', '-- migrate:up\nCREATE TABLE a (id int);\n');
    const r = await runCli(['plan', t.spec, '--root', t.root], { env: { APP_DATABASE_URL: `sqlserver://sa:${db.password}@127.0.0.1/app`, RECONCILE_NO_CACHE: '1' } });
    outputs.push(r.stdout, r.stderr);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('migrations[app].database: the database URL scheme "sqlserver://" is not supported; use postgres://, postgresql://, mysql:// or mariadb:// (SQL Server is not supported)');
  });
});
