/**
 * The migrations kind end to end: the built CLI against a real PostgreSQL cluster (scram over
 * TCP, the URL given through an environment variable), an empty temporary --root per run.
 * Every output of every command is checked for the database password.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli, type CliResult } from './helpers/cli.js';
import { startCluster, type Cluster } from './helpers/pg.js';
import { execFileSync } from 'node:child_process';
import pgClient from 'pg';
import { LOCK_KEY } from '../src/resources/migrations/db.js';

let pg: Cluster;
let dbCount = 0;
beforeAll(async () => {
  pg = await startCluster();
});
afterAll(() => pg?.destroy());

const M1 = `-- migrate:up
CREATE TABLE users (
  id bigserial PRIMARY KEY,
  email varchar(200) NOT NULL,
  balance numeric(12,2) DEFAULT 0
);
COMMENT ON TABLE users IS 'people who log in';
COMMENT ON COLUMN users.email IS 'unique, lower case';

-- migrate:down
DROP TABLE users;
`;
const M2 = `-- migrate:up
ALTER TABLE users ADD COLUMN name text;
CREATE TABLE audit (id serial PRIMARY KEY, what text NOT NULL);

-- migrate:down
DROP TABLE audit;
ALTER TABLE users DROP COLUMN name;
`;
const M3 = `-- migrate:up
CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id),
  total numeric(10,2)
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
  /** The CLI with APP_DATABASE_URL set; every output is checked for the password. */
  cli(args: string[], root?: string): Promise<CliResult>;
  sql(query: string): string;
}

let t: Env;
const outputs: string[] = [];

function setup(specExtra = ''): Env {
  const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-migrations-'));
  const db = `app_${process.pid}_${++dbCount}`;
  pg.psql(`CREATE DATABASE ${db}`);
  const migrations = path.join(dir, 'migrations', 'app');
  mkdirSync(migrations, { recursive: true });
  const root = path.join(dir, 'root');
  mkdirSync(root);
  const spec = path.join(dir, 'db1.yaml');
  writeFileSync(spec, `host: db1\nmigrations:\n  - name: app\n    database: {env: APP_DATABASE_URL}\n    dir: migrations/app\n${specExtra}`);
  const url = pg.url(db);
  return {
    dir,
    spec,
    root,
    db,
    url,
    migrations,
    write: (name, text) => writeFileSync(path.join(migrations, name), text),
    cli: async (args, r = root) => {
      const res = await runCli([...args, ...(args[0] === 'db' || args[0] === 'validate' ? [] : ['--root', r])], { env: { APP_DATABASE_URL: url, RECONCILE_NO_CACHE: '1' } });
      outputs.push(res.stdout, res.stderr);
      return res;
    },
    sql: (query) => pg.psql(query, { db }),
  };
}

function setSpec(extra: string): void {
  writeFileSync(t.spec, `host: db1\nmigrations:\n  - name: app\n    database: {env: APP_DATABASE_URL}\n    dir: migrations/app\n${extra}`);
}

function writeThree(): void {
  t.write('20240101000000_create_users.sql', M1);
  t.write('20240102000000_add_name_and_audit.sql', M2);
  t.write('20240103000000_create_orders.sql', M3);
}

const versions = () => t.sql('SELECT version FROM public.reconcile_migrations ORDER BY version').split('\n').filter(Boolean);

beforeEach(() => {
  t = setup();
});
afterEach(() => {
  // The password of the database URL never appears in any output.
  for (const o of outputs) expect(o).not.toContain(pg.password);
  outputs.length = 0;
  rmSync(t.dir, { recursive: true, force: true });
});

describe('reconcile migrations against a real PostgreSQL', () => {
  it('plans three pending migrations with their SQL, applies them, then is in sync', async () => {
    writeThree();
    const p = await t.cli(['plan', t.spec]);
    expect(p.stderr).toBe('');
    expect(p.exitCode).toBe(2);
    const addresses = [...p.stdout.matchAll(/^> (migrations\[app\]\/\S+)/gm)].map((m) => m[1]);
    expect(addresses).toEqual(['migrations[app]/20240101000000_create_users', 'migrations[app]/20240102000000_add_name_and_audit', 'migrations[app]/20240103000000_create_orders']);
    expect(p.stdout).toContain('+++ b/migrations/app/20240101000000_create_users.sql (migrate:up)');
    expect(p.stdout).toContain('    +  email varchar(200) NOT NULL,');
    expect(p.stdout).toContain('    +ALTER TABLE users ADD COLUMN name text;');
    expect(p.stdout).toContain('    +  user_id bigint NOT NULL REFERENCES users (id),');
    expect(p.stdout).not.toContain('DROP TABLE'); // down sections do not run
    expect(p.stdout).toContain('3 changes pending (3 run)');

    const md = await t.cli(['plan', t.spec, '--format', 'markdown']);
    expect(md.exitCode).toBe(2);
    expect(md.stdout).toContain('```diff\n--- /dev/null\n+++ b/migrations/app/20240103000000_create_orders.sql (migrate:up)\n@@ -0,0 +2,5 @@\n+CREATE TABLE orders (');

    const json = await t.cli(['plan', t.spec, '--format', 'json']);
    const saved = JSON.parse(json.stdout);
    expect(saved.steps.find((s: { id: string }) => s.id === saved.changes[0].steps[0]).args.database).toBe('env:APP_DATABASE_URL');

    const a = await t.cli(['apply', t.spec, '--yes']);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toContain('applied 20240101000000_create_users, applied 20240102000000_add_name_and_audit, applied 20240103000000_create_orders');
    expect(a.stdout).toContain('converged');

    const again = await t.cli(['plan', t.spec]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('in sync');

    const rows = t.sql(`SELECT entry, version, name, checksum, applied_by, stamped, fencing_token FROM public.reconcile_migrations ORDER BY version`).split('\n');
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => r.split('|').slice(0, 3).join('|'))).toEqual(['app|20240101000000|create_users', 'app|20240102000000|add_name_and_audit', 'app|20240103000000|create_orders']);
    for (const r of rows) {
      const [, , , checksum, by, stamped, token] = r.split('|');
      expect(checksum).toMatch(/^[0-9a-f]{64}$/);
      expect([by, stamped]).toEqual(['db1', 'f']);
      // The apply's host-lock fencing token (the first lock of this root: 1).
      expect(Number(token)).toBeGreaterThan(0);
    }
    expect(t.sql("SELECT count(*) FROM information_schema.tables WHERE table_name IN ('users', 'audit', 'orders')")).toBe('3');
  });

  it('fails the plan, naming the file, when an applied migration was edited or removed', async () => {
    writeThree();
    expect((await t.cli(['apply', t.spec, '--yes'])).exitCode).toBe(0);
    t.write('20240102000000_add_name_and_audit.sql', M2.replace('name text', 'name varchar(50)'));
    const p = await t.cli(['plan', t.spec]);
    expect(p.exitCode).toBe(1);
    expect(p.stderr).toContain('migrations[app]: migrations/app/20240102000000_add_name_and_audit.sql: checksum mismatch: applied with');
    expect(p.stderr).not.toMatch(/^\s+at /m);

    t.write('20240102000000_add_name_and_audit.sql', M2);
    rmSync(path.join(t.migrations, '20240103000000_create_orders.sql'));
    const gone = await t.cli(['plan', t.spec]);
    expect(gone.exitCode).toBe(1);
    expect(gone.stderr).toContain('20240103000000_create_orders.sql is applied (run ');
    expect(gone.stderr).toContain('but there is no such file in migrations/app any more');
  });

  it('refuses a downgrade without --allow-destructive; with it, runs the down sections in reverse', async () => {
    // Each section logs into a table of the first migration, so the order can be read back.
    t.write('001_log.sql', '-- migrate:up\nCREATE TABLE log (id serial PRIMARY KEY, what text);\n-- migrate:down\nDROP TABLE log;\n');
    for (const v of ['002', '003', '004']) {
      t.write(`${v}_t${v}.sql`, `-- migrate:up\nINSERT INTO log (what) VALUES ('up ${v}');\nCREATE TABLE t${v} (id int);\n-- migrate:down\nINSERT INTO log (what) VALUES ('down ${v}');\nDROP TABLE t${v};\n`);
    }
    expect((await t.cli(['apply', t.spec, '--yes'])).exitCode).toBe(0);
    setSpec('    target: "002"\n');

    const p = await t.cli(['plan', t.spec]);
    expect(p.exitCode).toBe(2);
    expect(p.stdout).toContain('> migrations[app]/004_t004  run, risk destructive');
    expect(p.stdout.indexOf('migrations[app]/004_t004')).toBeLessThan(p.stdout.indexOf('migrations[app]/003_t003'));
    expect(p.stdout).toContain('+++ b/migrations/app/004_t004.sql (migrate:down)');
    expect(p.stdout).toContain("    +INSERT INTO log (what) VALUES ('down 004');");

    const refused = await t.cli(['apply', t.spec, '--yes']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('refusing destructive changes without --allow-destructive: migrations[app]/004_t004, migrations[app]/003_t003');
    expect(versions()).toEqual(['001', '002', '003', '004']);

    const a = await t.cli(['apply', t.spec, '--yes', '--allow-destructive']);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toContain('reverted 004_t004, reverted 003_t003');
    expect(t.sql('SELECT what FROM log ORDER BY id').split('\n')).toEqual(['up 002', 'up 003', 'up 004', 'down 004', 'down 003']);
    expect(versions()).toEqual(['001', '002']);
    expect((await t.cli(['plan', t.spec])).exitCode).toBe(0);
  });

  it("applies dbmate's multi-section files (ALTER TYPE ... ADD VALUE outside a transaction) and the empty file of `dbmate new`, and reverts them", async () => {
    t.write('001_colors.sql', "-- migrate:up\nCREATE TYPE colors AS ENUM ('red');\nCREATE TABLE log (id serial PRIMARY KEY, what text);\n-- migrate:down\nDROP TABLE log;\nDROP TYPE colors;\n");
    // ADD VALUE cannot be used in the transaction that created the value's type, and not at all
    // before PostgreSQL 12 inside one: dbmate's own example of transaction:false, in two sections.
    t.write(
      '002_more_colors.sql',
      "-- migrate:up transaction:false\nALTER TYPE colors ADD VALUE 'orange' AFTER 'red';\n-- migrate:down\nINSERT INTO log (what) VALUES ('down orange');\n" +
        "-- migrate:up\nINSERT INTO log (what) VALUES ('up 2');\nINSERT INTO log (what) VALUES ('up 2 again');\n-- migrate:down transaction:false\nINSERT INTO log (what) VALUES ('down 2');\n",
    );
    // Its down section holds no statement: like a missing one, it is not reverted (so it comes first here).
    t.write('000_new.sql', '-- migrate:up\n\n\n-- migrate:down\n\n');
    const p = await t.cli(['plan', t.spec]);
    expect(p.stderr).toBe('');
    expect(p.exitCode).toBe(2);
    expect(p.stdout).toContain('+++ b/migrations/app/002_more_colors.sql (migrate:up transaction:false)');
    expect(p.stdout).toContain('+++ b/migrations/app/002_more_colors.sql (migrate:up)');
    expect(p.stdout).toContain('migrations[app]/000_new');
    const a = await t.cli(['apply', t.spec, '--yes']);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    expect(t.sql("SELECT string_agg(e::text, ',' ORDER BY e) FROM unnest(enum_range(NULL::colors)) e")).toBe('red,orange');
    expect(t.sql('SELECT what FROM log ORDER BY id').split('\n')).toEqual(['up 2', 'up 2 again']);
    expect(versions()).toEqual(['000', '001', '002']);
    expect((await t.cli(['plan', t.spec])).exitCode).toBe(0);

    setSpec('    target: "001"\n');
    const down = await t.cli(['apply', t.spec, '--yes', '--allow-destructive']);
    expect(down.stderr).toBe('');
    expect(down.exitCode).toBe(0);
    expect(t.sql('SELECT what FROM log ORDER BY id').split('\n')).toEqual(['up 2', 'up 2 again', 'down orange', 'down 2']);
    expect(versions()).toEqual(['000', '001']);
  });

  it('says so when a migration to pass downward has no down section', async () => {
    t.write('001_a.sql', '-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n');
    t.write('002_b.sql', '-- migrate:up\nCREATE TABLE b (id int);\n');
    expect((await t.cli(['apply', t.spec, '--yes'])).exitCode).toBe(0);
    setSpec('    target: "001"\n');
    const p = await t.cli(['plan', t.spec]);
    expect(p.exitCode).toBe(1);
    expect(p.stderr).toContain('migrations[app]: cannot go down to 001: migrations/app/002_b.sql has no -- migrate:down section');
  });

  it('rolls back a migration that fails halfway, stops, and reports the statement; earlier ones stay', async () => {
    t.write('001_a.sql', '-- migrate:up\nCREATE TABLE a (id int);\n');
    t.write('002_half.sql', '-- migrate:up\nCREATE TABLE partial (id int);\nINSERT INTO partial VALUES (1);\n\nINSERT INTO partial SELECT 1 / 0;\nCREATE TABLE never (id int);\n');
    t.write('003_c.sql', '-- migrate:up\nCREATE TABLE c (id int);\n');
    const a = await t.cli(['apply', t.spec, '--yes']);
    expect(a.exitCode).toBe(1);
    expect(a.stdout).toContain('migrations/app/002_half.sql: migration failed and was rolled back: division by zero (SQLSTATE 22012)');
    expect(a.stdout).toContain('statement at migrations/app/002_half.sql:5: INSERT INTO partial SELECT 1 / 0');
    expect(a.stdout).toContain('done before it (these stay): applied 001_a');
    expect(a.stdout).toContain('not run: 003_c');
    expect(t.sql("SELECT count(*) FROM information_schema.tables WHERE table_name IN ('partial', 'never', 'c')")).toBe('0');
    expect(t.sql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'a'")).toBe('1');
    expect(versions()).toEqual(['001']);

    const p = await t.cli(['plan', t.spec]);
    expect(p.exitCode).toBe(2);
    expect(p.stdout).toContain('migrations[app]/002_half');
    expect(p.stdout).not.toContain('migrations[app]/001_a');
  });

  it('points at the line and column the server names in a failing statement', async () => {
    t.write('001_c.sql', '-- migrate:up\nCREATE TABLE c (id int);\nSELECT id,\n       nope\n  FROM c;\n');
    const a = await t.cli(['apply', t.spec, '--yes']);
    expect(a.exitCode).toBe(1);
    expect(a.stdout).toContain('column "nope" does not exist (SQLSTATE 42703)');
    expect(a.stdout).toContain('statement at migrations/app/001_c.sql:4:8: SELECT id, nope FROM c');
    expect(t.sql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'c'")).toBe('0');
  });

  it('runs each migration once when two hosts apply at the same moment: the second waits, then does nothing', async () => {
    t.write('001_side.sql', "-- migrate:up\nCREATE TABLE side (who text);\nINSERT INTO side VALUES ('001');\n");
    // Long enough that the second apply is surely waiting on the lock while the first runs.
    t.write('002_slow.sql', "-- migrate:up\nSELECT pg_sleep(2.5);\nINSERT INTO side VALUES ('002');\n");
    t.write('003_more.sql', "-- migrate:up\nINSERT INTO side VALUES ('003');\n");
    const root2 = path.join(t.dir, 'root2');
    mkdirSync(root2);
    // Two roots: two hosts, each with its own host lock; only the database lock serialises them.
    const [a, b] = await Promise.all([t.cli(['apply', t.spec, '--yes']), t.cli(['apply', t.spec, '--yes'], root2)]);
    expect([a.exitCode, b.exitCode, a.stderr, b.stderr]).toEqual([0, 0, '', '']);
    expect(t.sql('SELECT who FROM side ORDER BY who').split('\n')).toEqual(['001', '002', '003']);
    expect(versions()).toEqual(['001', '002', '003']);
    const outs = [a.stdout, b.stdout];
    expect(outs.filter((o) => o.includes('applied 001_side, applied 002_slow, applied 003_more'))).toHaveLength(1);
    // The second planned all three or, when it planned after the first committed 001, the other two.
    const second = outs.filter((o) => /^ {2}already {2}migrate app to head \(003\): \d up {2}already done by another run: (001_side, )?002_slow, 003_more/m.test(o));
    expect(second, outs.join('\n----\n')).toHaveLength(1);
  });

  it('leaves the same schema after upgrade to head, downgrade two, upgrade again (db inspect)', async () => {
    writeThree();
    expect((await t.cli(['apply', t.spec, '--yes'])).exitCode).toBe(0);
    const first = await t.cli(['db', 'inspect', t.spec, 'app', '--format', 'json']);
    expect(first.exitCode).toBe(0);
    const schema = JSON.parse(first.stdout);
    expect(schema.formatVersion).toBe(1);
    const users = schema.tables.find((x: { name: string }) => x.name === 'users');
    expect(users.comment).toBe('people who log in');
    expect(users.columns.map((c: { name: string }) => c.name)).toEqual(['id', 'email', 'balance', 'name']);
    expect(users.columns[0]).toMatchObject({ type: 'bigint', primaryKey: true, nullable: false, default: "nextval('users_id_seq'::regclass)" });
    expect(users.columns[1]).toMatchObject({ type: 'character varying(200)', length: 200, primaryKey: false, nullable: false, comment: 'unique, lower case' });
    expect(users.columns[2]).toMatchObject({ type: 'numeric(12,2)', precision: 12, scale: 2, nullable: true, default: '0' });

    setSpec('    target: "20240101000000"\n');
    expect((await t.cli(['apply', t.spec, '--yes', '--allow-destructive'])).exitCode).toBe(0);
    const down = JSON.parse((await t.cli(['db', 'inspect', t.spec, '--format', 'json'])).stdout);
    expect(down.tables.map((x: { name: string }) => x.name)).toEqual(['reconcile_migrations', 'users']);

    setSpec('    target: head\n');
    expect((await t.cli(['apply', t.spec, '--yes'])).exitCode).toBe(0);
    const again = await t.cli(['db', 'inspect', t.spec, 'app', '--format', 'json']);
    expect(JSON.parse(again.stdout)).toEqual(schema);

    const text = await t.cli(['db', 'inspect', t.spec]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^TABLE\s+COLUMN\s+TYPE\s+LENGTH\s+PRECISION\s+SCALE\s+KEY\s+NULLABLE\s+DEFAULT\s+AUTO_INCREMENT\s+COMMENT$/);
    expect(text.stdout).toMatch(/^public\.users\s+email\s+character varying\(200\)\s+200\s+no\s+unique, lower case$/m);
    expect(text.stdout).toContain('public.users: people who log in');
  });

  it('stamps a database migrated by hand: the versions are recorded, not run', async () => {
    writeThree();
    // Migrated by hand: the first two up sections, no version table.
    t.sql(M1.split('-- migrate:down')[0]!.replace('-- migrate:up', ''));
    t.sql(M2.split('-- migrate:down')[0]!.replace('-- migrate:up', ''));
    const unstamped = await t.cli(['plan', t.spec]);
    expect(unstamped.exitCode).toBe(2); // it would run them again: the reviewer sees that

    setSpec('    stamp: "20240102000000"\n');
    const p = await t.cli(['plan', t.spec]);
    expect(p.exitCode).toBe(2);
    expect(p.stdout).toContain('~ migrations[app]/20240101000000_create_users  update, risk none');
    expect(p.stdout).toContain('stamp migrations/app/20240102000000_add_name_and_audit.sql as applied without running it (stamp: 20240102000000)');
    expect(p.stdout).toContain('> migrations[app]/20240103000000_create_orders  run, risk none');
    expect(p.stdout).not.toContain('+CREATE TABLE users');

    const a = await t.cli(['apply', t.spec, '--yes']);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toContain('stamped 20240101000000_create_users, stamped 20240102000000_add_name_and_audit, applied 20240103000000_create_orders');
    expect(t.sql('SELECT version, stamped FROM public.reconcile_migrations ORDER BY version').split('\n')).toEqual(['20240101000000|t', '20240102000000|t', '20240103000000|f']);
    expect((await t.cli(['plan', t.spec])).exitCode).toBe(0);
  });

  it('gives up waiting for the database lock at the step deadline, naming the lock, and runs nothing', async () => {
    t.write('001_a.sql', '-- migrate:up\nCREATE TABLE a (id int);\n');
    writeFileSync(t.spec, `${readFileSync(t.spec, 'utf8')}watchdog: {stepTimeout: 3s}\n`);
    // Another migrator (a host with an older reconcile, a person) holds the lock.
    const other = new pgClient.Client({ connectionString: t.url });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
      const started = Date.now();
      const a = await t.cli(['apply', t.spec, '--yes']);
      expect(a.exitCode).toBe(1);
      expect(a.stdout).toContain('another run holds the migrations lock of postgres@127.0.0.1:');
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(t.sql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'a'")).toBe('0');
    } finally {
      await other.end();
    }
    expect((await t.cli(['apply', t.spec, '--yes'])).exitCode).toBe(0);
  });

  it('records the spec\'s git commit and host with each migration', async () => {
    t.write('001_a.sql', '-- migrate:up\nCREATE TABLE a (id int);\n');
    const git = (...args: string[]) => execFileSync('git', ['-C', t.dir, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { encoding: 'utf8' }).trim();
    git('init', '-q');
    git('add', 'db1.yaml', 'migrations');
    git('commit', '-q', '-m', 'migrations');
    expect((await t.cli(['apply', t.spec, '--yes'])).exitCode).toBe(0);
    expect(t.sql('SELECT applied_by, spec_commit FROM public.reconcile_migrations')).toBe(`db1|${git('rev-parse', 'HEAD')}`);
  });

  it('reports a migration file that does not parse at its FILE:LINE:COL', async () => {
    t.write('001_a.sql', '-- migrate:up\nCREATE TABLE a (id int);\n');
    t.write('002_bad.sql', "-- migrate:up\nINSERT INTO a VALUES (1);\nINSERT INTO a VALUES ('oops);\n");
    const v = await t.cli(['validate', t.spec]);
    expect(v.exitCode).toBe(1);
    expect(v.stderr).toContain(`${path.join(t.dir, 'migrations/app/002_bad.sql')}:3:23: unterminated string literal`);
    const p = await t.cli(['plan', t.spec]);
    expect(p.exitCode).toBe(1);
    expect(p.stderr).toContain('migrations/app/002_bad.sql:3:23: unterminated string literal');
  });
});
