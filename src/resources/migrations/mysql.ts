import { createHash } from 'node:crypto';
import { UserError } from '../../errors.js';
import { describeDbError, registerUrlSecrets } from './db.js';
import { MigrationFailure, excerpt, type Dialect, type Session } from './dialect.js';
import type { ColumnInfo, TableInfo } from './inspect.js';
import { splitMysqlStatements } from './mysql-split.js';
import type { Statement } from './parse.js';
import type { AppliedRow, FailedRow, MigrateArgs, MigrationOp } from './types.js';

/** In the URL's database (MySQL has no schemas within a database). */
export const MYSQL_VERSION_TABLE = 'reconcile_migrations';

export const NOT_TRANSACTIONAL = 'not transactional on MySQL: a failure leaves the statements before it applied';

/**
 * Same columns as PostgreSQL's version table, plus the state of a migration that stopped halfway:
 * MySQL commits each DDL statement on its own, so a failure cannot be rolled back and is recorded
 * (status 'failed', never 'applied') for the operator to resolve.
 */
const CREATE_VERSION_TABLE = `CREATE TABLE IF NOT EXISTS ${MYSQL_VERSION_TABLE} (
  entry varchar(191) NOT NULL,
  version varchar(64) NOT NULL,
  name varchar(255) NOT NULL,
  checksum char(64) NOT NULL,
  applied_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  applied_by varchar(255) NOT NULL,
  spec_commit varchar(64),
  stamped boolean NOT NULL DEFAULT false,
  fencing_token bigint,
  status varchar(16) NOT NULL DEFAULT 'applied',
  failed_op varchar(8),
  failed_statement text,
  failed_error text,
  ran_before int,
  PRIMARY KEY (entry, version)
) DEFAULT CHARSET = utf8mb4`;

/**
 * GET_LOCK names are server-wide, not per database: the name carries the database (at most 64
 * characters, so a long name is hashed).
 */
export function mysqlLockName(database: string): string {
  const name = `reconcile_migrations.${database}`;
  return name.length <= 64 ? name : `reconcile_migrations.${createHash('sha256').update(database).digest('hex').slice(0, 42)}`;
}

export const mysqlDialect: Dialect = {
  name: 'mysql',
  label: 'MySQL',
  versionTable: MYSQL_VERSION_TABLE,
  lockLabel: 'GET_LOCK on reconcile_migrations.<database>',
  split: splitMysqlStatements,
  connect: connectMysql,
};

/** Only what reconcile needs from the driver (mysql2/promise). */
interface Connection {
  query<T = unknown>(sql: string, values?: unknown[]): Promise<[T, unknown]>;
  end(): Promise<void>;
  on(event: 'error', listener: (e: unknown) => void): void;
}

/** mysql://user:password@host:port/database (mariadb:// alike). Parameters are not taken from the URL. */
function connectionOptions(url: string): { host: string; port: number; user: string; password: string; database: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError('the MySQL database URL does not parse (mysql://USER:PASSWORD@HOST:PORT/DATABASE)');
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database || database.includes('/')) throw new UserError('the MySQL database URL names no database (mysql://USER:PASSWORD@HOST:PORT/DATABASE): the version table lives in it');
  if (u.search) throw new UserError(`the MySQL database URL has parameters (${[...u.searchParams.keys()].join(', ')}): none are supported`);
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database,
  };
}

async function connectMysql(url: string, options: { timeoutMs?: number } = {}): Promise<Session> {
  registerUrlSecrets(url);
  const target = connectionOptions(url);
  // Loaded here, not at the top: a plan that uses no MySQL database never loads the driver.
  const mysql = (await import('mysql2/promise')).default;
  const conn = (await mysql.createConnection({
    ...target,
    connectTimeout: options.timeoutMs ?? 10_000,
    // Every statement is sent alone: a mis-split can never run two at once.
    multipleStatements: false,
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: true,
    charset: 'utf8mb4',
  })) as unknown as Connection;
  // A connection dropped while idle is reported by the next query; without a listener it would crash the process.
  conn.on('error', () => {});
  try {
    await conn.query("SET time_zone = '+00:00'");
  } catch (e) {
    await conn.end().catch(() => {});
    throw e;
  }
  return mysqlSession(conn, target.database);
}

function mysqlSession(conn: Connection, database: string): Session {
  const lockName = mysqlLockName(database);
  const rows = async <T>(sql: string, values?: unknown[]) => (await conn.query<T[]>(sql, values))[0];
  const setTimeouts = async (ms: number) => {
    const seconds = Math.max(1, Math.ceil(ms / 1000));
    try {
      await conn.query(`SET SESSION max_statement_time = ${Math.max(0.001, ms / 1000).toFixed(3)}`); // MariaDB
    } catch {
      await conn.query(`SET SESSION max_execution_time = ${Math.max(1, Math.round(ms))}`).catch(() => {}); // MySQL (SELECT only)
    }
    await conn.query(`SET SESSION lock_wait_timeout = ${seconds}`);
    await conn.query(`SET SESSION innodb_lock_wait_timeout = ${seconds}`);
  };
  return {
    setTimeouts,
    readOnly: async () => (Number((await rows<{ r: number | string }>('SELECT @@global.read_only AS r'))[0]?.r) ? 'read-only (@@read_only is on: a replica)' : null),
    readState: async (entry) => {
      const exists = await rows<{ n: number }>('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [MYSQL_VERSION_TABLE]);
      if (!Number(exists[0]?.n)) return { applied: [], failed: [] };
      const all = await rows<VersionRow>(
        `SELECT version, name, checksum, applied_at, applied_by, spec_commit, stamped, status, failed_op, failed_statement, failed_error, ran_before FROM ${MYSQL_VERSION_TABLE} WHERE entry = ?`,
        [entry],
      );
      const byVersion = (a: { version: string }, b: { version: string }) => (BigInt(a.version) < BigInt(b.version) ? -1 : BigInt(a.version) > BigInt(b.version) ? 1 : 0);
      return {
        applied: all.filter((r) => r.status === 'applied').map(appliedRow).sort(byVersion),
        // Any other status is not applied: an unknown one (a newer reconcile) counts as failed, never as done.
        failed: all.filter((r) => r.status !== 'applied').map(failedRow).sort(byVersion),
      };
    },
    lock: async (waitMs) => {
      const r = await rows<{ l: number | null }>('SELECT GET_LOCK(?, ?) AS l', [lockName, Math.max(0, waitMs / 1000)]);
      if (r[0]?.l === null || r[0]?.l === undefined) throw new Error(`GET_LOCK('${lockName}') failed`);
      return Number(r[0].l) === 1;
    },
    unlock: async () => {
      await conn.query('SELECT RELEASE_LOCK(?)', [lockName]);
    },
    ensureVersionTable: async () => {
      await conn.query(CREATE_VERSION_TABLE);
    },
    runOp: async (op, args, leftMs, fencingToken) => {
      await setTimeouts(leftMs);
      await runOp(conn, op, args, fencingToken);
    },
    inspect: async () => ({ database, tables: await inspectMysql(conn) }),
    close: () => conn.end(),
  };
}

interface VersionRow {
  version: string;
  name: string;
  checksum: string;
  applied_at: Date;
  applied_by: string;
  spec_commit: string | null;
  stamped: number;
  status: string;
  failed_op: string | null;
  failed_statement: string | null;
  failed_error: string | null;
  ran_before: number | null;
}

function appliedRow(r: VersionRow): AppliedRow {
  return { version: r.version, name: r.name, checksum: r.checksum, appliedAt: r.applied_at.toISOString(), appliedBy: r.applied_by, specCommit: r.spec_commit, stamped: !!Number(r.stamped) };
}

function failedRow(r: VersionRow): FailedRow {
  return {
    version: r.version,
    name: r.name,
    checksum: r.checksum,
    op: r.failed_op === 'down' ? 'down' : 'up',
    failedAt: r.applied_at.toISOString(),
    failedBy: r.applied_by,
    statement: r.failed_statement ?? `(status ${r.status})`,
    error: r.failed_error ?? '',
    ranBefore: Number(r.ran_before ?? 0),
  };
}

/**
 * Statements one by one (each DDL commits on its own). A failure after some statements ran is
 * recorded as failed with the statement, the error and how many ran before it; a failure of the
 * first statement leaves nothing of the migration, which stays pending. Success records the
 * version (replacing a failed row only when the plan said retry or stamp, checked by the step).
 */
async function runOp(conn: Connection, op: MigrationOp, args: MigrateArgs, fencingToken: number | null): Promise<void> {
  // A file of several dbmate sections: all of their statements, in file order, one by one.
  const statements = op.section ? (op.section.blocks ?? [op.section]).flatMap((b) => splitMysqlStatements(b.sql, b.line).statements) : [];
  const ran: Statement[] = [];
  const fail = async (s: Statement | null, e: unknown): Promise<never> => {
    let recorded: true | string | undefined;
    if (ran.length > 0 || s === null) {
      const what = s ? `${op.file}:${s.line}: ${excerpt(s.text)}` : `recording it in ${MYSQL_VERSION_TABLE} after its last statement ran`;
      recorded = await recordFailure(conn, op, args, what, describeDbError(e), ran.length).then(
        () => true as const,
        (re) => describeDbError(re),
      );
    }
    throw new MigrationFailure(op, s, e, { rolledBack: false, ranBefore: [...ran], notTransactional: NOT_TRANSACTIONAL, recorded });
  };
  for (const s of statements) {
    try {
      await conn.query(s.text);
    } catch (e) {
      await fail(s, e);
    }
    ran.push(s);
  }
  try {
    await conn.query('START TRANSACTION');
    // Only a failed row is replaced: an applied one makes the INSERT fail (the step checked under the lock).
    await conn.query(`DELETE FROM ${MYSQL_VERSION_TABLE} WHERE entry = ? AND version = ?${op.op === 'down' ? '' : " AND status <> 'applied'"}`, [args.entry, op.version]);
    if (op.op !== 'down') {
      await conn.query(
        `INSERT INTO ${MYSQL_VERSION_TABLE} (entry, version, name, checksum, applied_by, spec_commit, stamped, fencing_token, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'applied')`,
        [args.entry, op.version, op.name, op.checksum, args.host, args.commit, op.op === 'stamp', fencingToken],
      );
    }
    await conn.query('COMMIT');
  } catch (e) {
    await conn.query('ROLLBACK').catch(() => {});
    await fail(null, e);
  }
}

/** Replaces a failed row, or the applied row a down section was reverting; never an applied row of an up. */
async function recordFailure(conn: Connection, op: MigrationOp, args: MigrateArgs, statement: string, error: string, ranBefore: number): Promise<void> {
  await conn.query('START TRANSACTION');
  try {
    await conn.query(`DELETE FROM ${MYSQL_VERSION_TABLE} WHERE entry = ? AND version = ?${op.op === 'down' ? '' : " AND status <> 'applied'"}`, [args.entry, op.version]);
    await conn.query(
      `INSERT INTO ${MYSQL_VERSION_TABLE} (entry, version, name, checksum, applied_by, spec_commit, stamped, status, failed_op, failed_statement, failed_error, ran_before)
       VALUES (?, ?, ?, ?, ?, ?, false, 'failed', ?, ?, ?, ?)`,
      [args.entry, op.version, op.name, op.checksum, args.host, args.commit, op.op === 'down' ? 'down' : 'up', statement, error, ranBefore],
    );
    await conn.query('COMMIT');
  } catch (e) {
    await conn.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

/**
 * Tables and columns of the URL's database from information_schema (MySQL 5.7 and MariaDB alike),
 * in the shape of PostgreSQL's inspection: the exact type (COLUMN_TYPE: `varchar(200)`,
 * `int(10) unsigned`), precision and scale for DECIMAL only (as PostgreSQL's numeric), the key
 * (PRI, UNI, MUL as primary, unique, index) and auto_increment. Comments '' are null.
 */
async function inspectMysql(conn: Connection): Promise<TableInfo[]> {
  const [rows] = await conn.query<
    {
      table_schema: string;
      table_name: string;
      table_comment: string | null;
      column_name: string;
      column_type: string;
      data_type: string;
      length: string | number | null;
      precision: string | number | null;
      scale: string | number | null;
      nullable: string;
      column_key: string;
      column_default: string | null;
      extra: string;
      column_comment: string | null;
    }[]
  >(`
    SELECT c.TABLE_SCHEMA AS table_schema, c.TABLE_NAME AS table_name, t.TABLE_COMMENT AS table_comment,
           c.COLUMN_NAME AS column_name, c.COLUMN_TYPE AS column_type, c.DATA_TYPE AS data_type,
           c.CHARACTER_MAXIMUM_LENGTH AS length, c.NUMERIC_PRECISION AS \`precision\`, c.NUMERIC_SCALE AS scale,
           c.IS_NULLABLE AS nullable, c.COLUMN_KEY AS column_key, c.COLUMN_DEFAULT AS column_default,
           c.EXTRA AS extra, c.COLUMN_COMMENT AS column_comment
      FROM information_schema.COLUMNS c
      JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
     WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')
     ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`);
  const num = (v: string | number | null) => (v === null ? null : Number(v));
  const tables: TableInfo[] = [];
  for (const row of rows) {
    let t = tables.at(-1);
    if (!t || t.name !== row.table_name) {
      t = { schema: row.table_schema, name: row.table_name, comment: row.table_comment || null, columns: [] };
      tables.push(t);
    }
    const decimal = row.data_type.toLowerCase() === 'decimal';
    const key: ColumnInfo['key'] = row.column_key === 'PRI' ? 'primary' : row.column_key === 'UNI' ? 'unique' : row.column_key === 'MUL' ? 'index' : null;
    t.columns.push({
      name: row.column_name,
      type: row.column_type,
      length: num(row.length),
      precision: decimal ? num(row.precision) : null,
      scale: decimal ? num(row.scale) : null,
      primaryKey: key === 'primary',
      key,
      nullable: row.nullable === 'YES',
      // MariaDB says 'NULL' (unquoted) for "no default" on a nullable column; a string default is quoted there.
      default: row.column_default === null || row.column_default === 'NULL' ? null : row.column_default,
      autoIncrement: /\bauto_increment\b/i.test(row.extra),
      comment: row.column_comment || null,
    });
  }
  return tables;
}
