import type { Section } from './parse.js';

/** One migration file, parsed. */
export interface MigrationFile {
  version: string;
  /** The slug of `<version>_<slug>.sql`. */
  name: string;
  /** The spec's `dir` joined with the file name, as the spec's reader finds it. */
  file: string;
  /** sha256 of the up section (see checksum()). */
  checksum: string;
  up: Section;
  down: Section | null;
}

/** A row of the version table. */
export interface AppliedRow {
  version: string;
  name: string;
  checksum: string;
  appliedAt: string;
  appliedBy: string;
  specCommit: string | null;
  /** Recorded by a stamp, never run by reconcile. */
  stamped: boolean;
}

export type DialectName = 'postgres' | 'mysql';

/**
 * A migration that stopped halfway outside a transaction (MySQL commits DDL implicitly): the
 * statements before the failing one stay applied. Never counted as applied; the plan stops on it
 * until the operator fixes the database and says so (stamp or retry).
 */
export interface FailedRow {
  version: string;
  name: string;
  checksum: string;
  /** The section that failed. */
  op: 'up' | 'down';
  failedAt: string;
  failedBy: string;
  /** `FILE:LINE: statement` of the statement that failed, or what failed after the last one. */
  statement: string;
  error: string;
  /** How many statements of the section ran before it (and stay applied). */
  ranBefore: number;
}

export interface EntryObserved {
  files: MigrationFile[];
  /** null when the database was not read (a standby host). */
  db: {
    /** Absent: postgres (plans and fixtures made before MySQL was supported). */
    dialect?: DialectName;
    /** The database is a hot standby (pg_is_in_recovery(); MySQL: @@read_only): read-only. */
    inRecovery: boolean;
    /** Rows of this entry in the version table; [] when the table does not exist yet. */
    applied: AppliedRow[];
    /** Failed migrations recorded in the version table (MySQL only); absent or [] when none. */
    failed?: FailedRow[];
  } | null;
}

export interface MigrationsObserved {
  /** By the spec entry's name. */
  entries: Record<string, EntryObserved>;
  /** The spec's commit, recorded with each migration applied (not secret, not digested). */
  git?: { commit: string; dirty: boolean } | null;
}

/** One action of the migrate step, in the order it runs. */
export interface MigrationOp {
  op: 'up' | 'down' | 'stamp';
  version: string;
  name: string;
  file: string;
  /** Checksum of the up section: recorded by up and stamp, checked by down. */
  checksum: string;
  /** The section that runs (up or down); absent for stamp. */
  section?: Section;
  /** Runs again a migration recorded as failed (the entry's `retry`). */
  retry?: boolean;
}

export type MigrateArgs = {
  /** The spec entry's name: its rows in the version table are keyed by it. */
  entry: string;
  /** refKey() of the database URL: resolved from StepContext.secrets, never carried here. */
  database: string;
  /** The spec's host, recorded as applied_by. */
  host: string;
  commit: string | null;
  ops: MigrationOp[];
};

/** The args of the kind's one step type, by op (see src/plan/steps.ts). */
export type MigrationsStepArgs = { 'migrations.migrate': MigrateArgs };
