import { SpecError, UserError } from '../../errors.js';
import { refKey } from '../../spec/secrets.js';
import { gitInfo } from '../../plan/git.js';
import type { ObserveContext } from '../types.js';
import { describeDbError, describeUrl } from './db.js';
import { dialectFor, type Session } from './dialect.js';
import { readMigrationDir } from './files.js';
import type { EntryObserved, MigrationsObserved } from './types.js';

/** Connecting and reading the version table must not hang a plan on an unreachable server. */
const OBSERVE_TIMEOUT_MS = 10_000;

export function isStandby(spec: ObserveContext['spec']): boolean {
  return spec.postgres?.role === 'standby';
}

/**
 * Per entry: the migration files (read relative to the spec file) and the entry's rows of the
 * version table. A standby host does not connect at all: it never migrates.
 */
export async function observeMigrations(ctx: ObserveContext): Promise<MigrationsObserved> {
  const entries = ctx.spec.migrations ?? [];
  if (entries.length === 0) return { entries: {} };
  if (ctx.specPath === undefined) throw new Error('internal: migrations need ObserveContext.specPath');
  const specPath = ctx.specPath;
  const git = gitInfo(specPath).catch(() => null);
  const observed: Record<string, EntryObserved> = {};
  await Promise.all(
    entries.map(async (entry) => {
      // The URL says which database it is, and so which SQL rules split its files.
      const url = isStandby(ctx.spec) ? undefined : ctx.secrets?.get(refKey(entry.database));
      const dialect = url === undefined ? undefined : dialectFor(url, `migrations[${entry.name}].database`);
      const read = readMigrationDir(specPath, entry, dialect?.split);
      // validate checked the files, but they may have changed since (or the check was cached with the spec).
      if (read.unreadable) throw new UserError(`migrations[${entry.name}]: ${read.unreadable}`);
      if (read.diagnostics.length) throw new SpecError(read.diagnostics);
      if (isStandby(ctx.spec)) {
        observed[entry.name] = { files: read.files, db: null };
        return;
      }
      if (url === undefined || dialect === undefined) throw new Error(`internal: the database reference of migrations[${entry.name}] was not resolved`);
      let session: Session;
      try {
        session = await dialect.connect(url, { timeoutMs: OBSERVE_TIMEOUT_MS });
      } catch (e) {
        throw new UserError(e instanceof UserError ? `migrations[${entry.name}]: ${e.message}` : `migrations[${entry.name}]: cannot connect to ${describeUrl(url)}: ${describeDbError(e)}`);
      }
      try {
        await session.setTimeouts(OBSERVE_TIMEOUT_MS);
        const readOnly = await session.readOnly();
        const { applied, failed } = await session.readState(entry.name);
        observed[entry.name] = {
          files: read.files,
          // PostgreSQL's observation keeps its shape (plans and fixtures made before MySQL).
          db: dialect.name === 'postgres' ? { inRecovery: readOnly !== null, applied } : { dialect: dialect.name, inRecovery: readOnly !== null, applied, failed },
        };
      } catch (e) {
        throw new UserError(`migrations[${entry.name}]: cannot read the version table of ${describeUrl(url)}: ${describeDbError(e)}`);
      } finally {
        await session.close().catch(() => {});
      }
    }),
  );
  return { entries: observed, git: await git };
}
