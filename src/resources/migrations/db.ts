import type { Client as PgClient } from 'pg';
import { registerSecret } from '../../spec/secrets.js';
import { compareVersions } from './parse.js';
import type { AppliedRow } from './types.js';

/** One table for every entry of every spec that migrates this database; rows keyed by entry. */
export const VERSION_TABLE = 'public.reconcile_migrations';

/**
 * The advisory lock key of the version table: two hosts or two runs never migrate a database at
 * once. A fixed 64-bit number (not hashtext(), whose value may change across server versions).
 */
export const LOCK_KEY = '-4281085854358894021'; // first 8 bytes of sha256("reconcile:public.reconcile_migrations"), signed

export const CREATE_VERSION_TABLE = `CREATE TABLE IF NOT EXISTS ${VERSION_TABLE} (
  entry text NOT NULL,
  version text NOT NULL,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  applied_by text NOT NULL,
  spec_commit text,
  stamped boolean NOT NULL DEFAULT false,
  fencing_token bigint,
  PRIMARY KEY (entry, version)
)`;

/** Tables made before the fencing token was recorded get its column. */
export const ADD_FENCING_COLUMN = `ALTER TABLE ${VERSION_TABLE} ADD COLUMN IF NOT EXISTS fencing_token bigint`;

export type Client = PgClient;

/** `user@host:port/db`: how a database is named in messages. Never the password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || '(default database)';
    return `${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.hostname || 'localhost'}${u.port ? `:${u.port}` : ''}/${db}`;
  } catch {
    return 'the database (its URL does not parse)';
  }
}

/** The URL's password is a secret on its own: it may show up without the rest of the URL. */
export function registerUrlSecrets(url: string): void {
  registerSecret(url);
  try {
    const u = new URL(url);
    if (u.password) {
      registerSecret(u.password);
      registerSecret(decodeURIComponent(u.password));
    }
  } catch {
    // not a URL: pg will say so, without echoing it
  }
}

/** A connected client; pg is loaded only when a database is really read (start-up time of every plan). */
export async function connect(url: string, options: { timeoutMs?: number } = {}): Promise<Client> {
  registerUrlSecrets(url);
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: options.timeoutMs ?? 10_000, application_name: 'reconcile' });
  // A connection dropped while idle is reported by the next query; without a listener it would crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => {});
    throw e;
  }
  return client;
}

/** A database error as one line: message, SQLSTATE (and MySQL's error name), and detail/hint when the server gave them. */
export function describeDbError(e: unknown): string {
  const err = e as { message?: string; code?: string; sqlState?: string; sqlMessage?: string; detail?: string; hint?: string };
  const state = err.sqlState ?? (err.code && /^[0-9A-Z]{5}$/.test(err.code) ? err.code : undefined);
  const codes = [state && `SQLSTATE ${state}`, err.sqlState && err.code?.startsWith('ER_') && err.code].filter(Boolean).join(', ');
  const parts = [`${err.sqlMessage ?? err.message ?? String(e)}${codes ? ` (${codes})` : ''}`];
  if (err.detail) parts.push(`detail: ${err.detail}`);
  if (err.hint) parts.push(`hint: ${err.hint}`);
  return parts.join('; ');
}

/** This entry's rows of the version table, in version order; [] when the table does not exist yet. */
export async function readApplied(client: Client, entry: string): Promise<AppliedRow[]> {
  const exists = await client.query<{ t: string | null }>(`SELECT to_regclass($1)::text AS t`, [VERSION_TABLE]);
  if (!exists.rows[0]?.t) return [];
  const r = await client.query<{ version: string; name: string; checksum: string; applied_at: Date; applied_by: string; spec_commit: string | null; stamped: boolean }>(
    `SELECT version, name, checksum, applied_at, applied_by, spec_commit, stamped FROM ${VERSION_TABLE} WHERE entry = $1`,
    [entry],
  );
  return r.rows
    .map((row) => ({
      version: row.version,
      name: row.name,
      checksum: row.checksum,
      appliedAt: row.applied_at.toISOString(),
      appliedBy: row.applied_by,
      specCommit: row.spec_commit,
      stamped: row.stamped,
    }))
    .sort((a, b) => compareVersions(a.version, b.version));
}
