import { ADD_FENCING_COLUMN, CREATE_VERSION_TABLE, LOCK_KEY, VERSION_TABLE, connect, readApplied, type Client } from './db.js';
import { MigrationFailure, type Dialect, type Session } from './dialect.js';
import { inspectSchema } from './inspect.js';
import { splitStatements, type Statement } from './parse.js';
import type { MigrateArgs, MigrationOp } from './types.js';

/**
 * PostgreSQL: the version table in `public`, pg_advisory_lock, and each migration in one
 * transaction with its version row (a failure leaves nothing of it), unless the file says
 * transaction:false.
 */
export const postgresDialect: Dialect = {
  name: 'postgres',
  label: 'PostgreSQL',
  versionTable: VERSION_TABLE,
  lockLabel: `pg_advisory_lock on ${VERSION_TABLE}`,
  split: splitStatements,
  connect: async (url, options) => postgresSession(await connect(url, options)),
};

function postgresSession(client: Client): Session {
  return {
    setTimeouts: async (ms) => {
      const n = Math.max(1, Math.round(ms));
      await client.query(`SET statement_timeout = ${n}; SET lock_timeout = ${n}`);
    },
    readOnly: async () => ((await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]?.r ? 'in recovery (a read-only standby)' : null),
    readState: async (entry) => ({ applied: await readApplied(client, entry), failed: [] }),
    lock: async (waitMs) => {
      await client.query(`SET lock_timeout = ${Math.max(1, Math.round(waitMs))}`);
      try {
        await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
        return true;
      } catch (e) {
        if ((e as { code?: string }).code === '55P03') return false;
        throw e;
      }
    },
    unlock: async () => {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
    },
    ensureVersionTable: async () => {
      await client.query(CREATE_VERSION_TABLE);
      await client.query(ADD_FENCING_COLUMN);
    },
    runOp: (op, args, leftMs, fencingToken) => runOp(client, op, args, leftMs, fencingToken),
    inspect: async () => ({
      database: (await client.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d,
      tables: await inspectSchema(client),
    }),
    close: () => client.end(),
  };
}

async function runOp(client: Client, op: MigrationOp, args: MigrateArgs, leftMs: number, fencingToken: number | null): Promise<void> {
  await client.query(`SET statement_timeout = ${Math.max(1, leftMs)}; SET lock_timeout = ${Math.max(1, leftMs)}`);
  const record = op.op === 'down'
    ? { text: `DELETE FROM ${VERSION_TABLE} WHERE entry = $1 AND version = $2`, values: [args.entry, op.version] }
    : {
        text: `INSERT INTO ${VERSION_TABLE} (entry, version, name, checksum, applied_by, spec_commit, stamped, fencing_token) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        values: [args.entry, op.version, op.name, op.checksum, args.host, args.commit, op.op === 'stamp', fencingToken],
      };
  // Each section as its marker says (a file of several dbmate sections mixes them); the version
  // row goes with the last one, so a migration is recorded only once all of it ran.
  const blocks = op.section ? op.section.blocks ?? [op.section] : [{ sql: '', line: 0, transaction: true }];
  const kept: Statement[] = []; // statements that stay applied if a later one fails
  for (const [k, block] of blocks.entries()) {
    const statements = splitStatements(block.sql, block.line).statements;
    const inTransaction = block.transaction;
    const failure = (s: Statement | null, e: unknown, ran: number) =>
      new MigrationFailure(op, s, e, { rolledBack: inTransaction, ranBefore: [...kept, ...(inTransaction ? [] : statements.slice(0, ran))] });
    if (inTransaction) await client.query('BEGIN');
    let ran = 0;
    try {
      for (const s of statements) {
        try {
          await client.query(s.text);
        } catch (e) {
          throw failure(s, e, ran);
        }
        ran++;
      }
      if (k === blocks.length - 1) {
        try {
          await client.query(record);
        } catch (e) {
          throw failure(null, e, ran);
        }
      }
      if (inTransaction) await client.query('COMMIT');
    } catch (e) {
      if (inTransaction) await client.query('ROLLBACK').catch(() => {});
      throw e instanceof MigrationFailure ? e : failure(null, e, 0);
    }
    kept.push(...statements);
  }
}
