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

export interface EntryObserved {
  files: MigrationFile[];
  /** null when the database was not read (a standby host). */
  db: {
    /** The database is a hot standby (pg_is_in_recovery()): read-only. */
    inRecovery: boolean;
    /** Rows of this entry in the version table; [] when the table does not exist yet. */
    applied: AppliedRow[];
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
