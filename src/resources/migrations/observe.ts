import { SpecError, UserError } from '../../errors.js';
import { refKey } from '../../spec/secrets.js';
import { gitInfo } from '../../plan/git.js';
import type { ObserveContext } from '../types.js';
import { connect, describeDbError, describeUrl, readApplied } from './db.js';
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
      const read = readMigrationDir(specPath, entry);
      // validate checked the files, but they may have changed since (or the check was cached with the spec).
      if (read.unreadable) throw new UserError(`migrations[${entry.name}]: ${read.unreadable}`);
      if (read.diagnostics.length) throw new SpecError(read.diagnostics);
      if (isStandby(ctx.spec)) {
        observed[entry.name] = { files: read.files, db: null };
        return;
      }
      const url = ctx.secrets?.get(refKey(entry.database));
      if (url === undefined) throw new Error(`internal: the database reference of migrations[${entry.name}] was not resolved`);
      let client;
      try {
        client = await connect(url, { timeoutMs: OBSERVE_TIMEOUT_MS });
      } catch (e) {
        throw new UserError(`migrations[${entry.name}]: cannot connect to ${describeUrl(url)}: ${describeDbError(e)}`);
      }
      try {
        await client.query(`SET statement_timeout = ${OBSERVE_TIMEOUT_MS}`);
        const recovery = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
        const applied = await readApplied(client, entry.name);
        observed[entry.name] = { files: read.files, db: { inRecovery: !!recovery.rows[0]?.r, applied } };
      } catch (e) {
        throw new UserError(`migrations[${entry.name}]: cannot read the version table of ${describeUrl(url)}: ${describeDbError(e)}`);
      } finally {
        await client.end().catch(() => {});
      }
    }),
  );
  return { entries: observed, git: await git };
}
