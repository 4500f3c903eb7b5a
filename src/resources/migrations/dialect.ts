import { UserError } from '../../errors.js';
import type { TableInfo } from './inspect.js';
import type { Problem, Statement } from './parse.js';
import type { AppliedRow, DialectName, FailedRow, MigrateArgs, MigrationOp } from './types.js';
import { describeDbError } from './db.js';
import { postgresDialect } from './postgres.js';
import { mysqlDialect } from './mysql.js';

/**
 * What differs between the databases migrations run against. One implementation per database
 * (postgres.ts, mysql.ts); the plan, the step and `db inspect` speak only this interface. Each
 * implementation loads its driver when it connects, so a plan loads only the driver it uses.
 */
export interface Dialect {
  name: DialectName;
  /** How messages name the database: PostgreSQL, MySQL. */
  label: string;
  /** The version table as messages name it. */
  versionTable: string;
  /** The migrations lock as messages name it. */
  lockLabel: string;
  /** A section split into the statements run one at a time (its own quoting and comment rules). */
  split(sql: string, firstLine?: number): { statements: Statement[]; problems: Problem[] };
  connect(url: string, options?: { timeoutMs?: number }): Promise<Session>;
}

/** This entry's rows of the version table. */
export interface VersionState {
  applied: AppliedRow[];
  /** Migrations that stopped halfway and were recorded so (MySQL: DDL is not transactional). */
  failed: FailedRow[];
}

/** One connection. Everything a run does under the lock goes through the same session. */
export interface Session {
  /** Bounds each statement (and lock waits inside statements) from now on. */
  setTimeouts(ms: number): Promise<void>;
  /** Why the database cannot be written (a standby in recovery, a read-only replica), or null. */
  readOnly(): Promise<string | null>;
  /** [] and [] when the version table does not exist yet. */
  readState(entry: string): Promise<VersionState>;
  /** Takes the database's migrations lock on this connection; false when another holder kept it for waitMs. */
  lock(waitMs: number): Promise<boolean>;
  unlock(): Promise<void>;
  ensureVersionTable(): Promise<void>;
  /** Runs one op and records it; throws MigrationFailure. */
  runOp(op: MigrationOp, args: MigrateArgs, leftMs: number, fencingToken: number | null): Promise<void>;
  inspect(): Promise<{ database: string; tables: TableInfo[] }>;
  close(): Promise<void>;
}

/** A statement (or the recording) that failed, with what of the migration had run before it. */
export class MigrationFailure extends Error {
  constructor(
    readonly op: MigrationOp,
    readonly statement: Statement | null,
    readonly error: unknown,
    readonly details: {
      /** The transaction was rolled back: nothing of the migration stays. */
      rolledBack: boolean;
      /** Statements of the section that ran and stay applied (outside a transaction). */
      ranBefore: Statement[];
      /** Not transactional by the database, not by choice (MySQL commits DDL implicitly). */
      notTransactional?: string;
      /** The failure was recorded in the version table (true), could not be (the reason), or is not recorded (undefined). */
      recorded?: true | string;
    },
  ) {
    super(describeDbError(error));
  }
}

// A function, not a constant: the dialect modules import this one (MigrationFailure).
const schemes = (): Record<string, Dialect> => ({
  'postgres:': postgresDialect,
  'postgresql:': postgresDialect,
  'mysql:': mysqlDialect,
  'mariadb:': mysqlDialect,
});

/** The dialect of a database URL, by its scheme. The message never holds the URL (a secret). */
export function dialectFor(url: string, where: string): Dialect {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*:)/.exec(url)?.[1]?.toLowerCase();
  const dialect = scheme ? schemes()[scheme] : undefined;
  if (!dialect) {
    throw new UserError(`${where}: the database URL ${scheme && scheme.length <= 20 ? `scheme "${scheme}//" is not supported` : 'has no scheme'}; use postgres://, postgresql://, mysql:// or mariadb:// (SQL Server is not supported)`);
  }
  return dialect;
}

/** A statement on one line, at most 300 characters: for messages and the version table. */
export function excerpt(sql: string): string {
  const one = sql.replace(/\s+/g, ' ').trim();
  return one.length > 300 ? `${one.slice(0, 297)}...` : one;
}
