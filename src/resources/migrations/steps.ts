import { redact } from '../../spec/secrets.js';
import { StepError, typedRunners, type StepContext, type StepOutcome } from '../../plan/steps.js';
import { ADD_FENCING_COLUMN, CREATE_VERSION_TABLE, LOCK_KEY, VERSION_TABLE, connect, describeDbError, describeUrl, readApplied, type Client } from './db.js';
import { MIGRATE_OP } from './diff.js';
import { splitStatements, type Statement } from './parse.js';
import type { MigrateArgs, MigrationOp, MigrationsStepArgs } from './types.js';

/** Below this much time left before the step's deadline, the next migration is not started. */
const MIN_START_MS = 1_000;

/** A statement that failed, with where it stands in its file. */
class MigrationFailure extends Error {
  constructor(
    readonly op: MigrationOp,
    readonly statement: Statement | null,
    readonly error: unknown,
    readonly partial: boolean,
  ) {
    super(describeDbError(error));
  }
}

function label(op: MigrationOp): string {
  return `${op.version}_${op.name}`;
}

function excerpt(sql: string): string {
  const one = sql.replace(/\s+/g, ' ').trim();
  return one.length > 300 ? `${one.slice(0, 297)}...` : one;
}

/**
 * Runs an entry's migrations in plan order under pg_advisory_lock on the version table. After
 * taking the lock the version table is read again and what another run already did is skipped.
 * Each migration runs in its own transaction with its version row; the first failure rolls
 * that migration back and stops; the ones before it stay applied and are reported.
 */
const migrate = async (args: MigrateArgs, ctx: StepContext): Promise<StepOutcome> => {
  const url = ctx.secrets.get(args.database);
  if (url === undefined) throw new StepError(`internal: the database reference of migrations[${args.entry}] was not resolved`);
  const where = describeUrl(url);
  // The watchdog bounds the step; the server bounds each statement so nothing runs on past it.
  const deadline = Date.now() + ctx.timeoutMs;
  const left = () => deadline - Date.now();

  let client: Client;
  try {
    client = await connect(url, { timeoutMs: Math.min(10_000, ctx.timeoutMs) });
  } catch (e) {
    throw new StepError(`cannot connect to ${where}: ${describeDbError(e)}`);
  }
  const done: string[] = [];
  const skipped: string[] = [];
  try {
    await client.query(`SET lock_timeout = ${Math.max(1, left() - MIN_START_MS)}`);
    try {
      await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    } catch (e) {
      if ((e as { code?: string }).code === '55P03') {
        throw new StepError(`another run holds the migrations lock of ${where} (pg_advisory_lock on ${VERSION_TABLE}); gave up after ${Math.round(ctx.timeoutMs / 1000)} s (watchdog.stepTimeout)`);
      }
      throw e;
    }
    try {
      await client.query(CREATE_VERSION_TABLE);
      await client.query(ADD_FENCING_COLUMN);
      // Under the lock: what another host or run did while we waited counts.
      const applied = new Map((await readApplied(client, args.entry)).map((r) => [BigInt(r.version), r]));
      for (const op of args.ops) {
        const row = applied.get(BigInt(op.version));
        // A down runs only against the migration that was planned: its applied checksum must match.
        if (op.op === 'down' && row && row.checksum !== op.checksum) {
          throw new StepError(`${partialReport(done)}${op.file} is applied with checksum ${row.checksum.slice(0, 12)}, not ${op.checksum.slice(0, 12)} as planned; its down section is not for what is in the database`);
        }
        if (op.op === 'down' ? !row : row) {
          if (row && row.checksum !== op.checksum) {
            throw new StepError(`${partialReport(done)}${op.file} was applied meanwhile with checksum ${row.checksum.slice(0, 12)}, not ${op.checksum.slice(0, 12)} as planned; plan again`);
          }
          skipped.push(label(op));
          continue;
        }
        if (left() < MIN_START_MS) {
          throw new StepError(`${partialReport(done)}the step deadline (watchdog.stepTimeout, ${ctx.timeoutMs} ms) was reached before ${op.file} started; not started: ${notRun(args.ops, op)}`);
        }
        await runOp(client, op, args, left(), ctx.fencingToken ?? null);
        done.push(`${op.op === 'down' ? 'reverted' : op.op === 'stamp' ? 'stamped' : 'applied'} ${label(op)}`);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
    }
  } catch (e) {
    if (e instanceof MigrationFailure) throw new StepError(failureReport(e, done, args.ops));
    if (e instanceof StepError) throw e;
    throw new StepError(`${partialReport(done)}${where}: ${describeDbError(e)}`);
  } finally {
    await client.end().catch(() => {});
  }
  if (done.length === 0) return { status: 'already', detail: `already done by another run: ${skipped.join(', ')}` };
  return { status: 'done', detail: `${done.join(', ')}${skipped.length ? `; already done by another run: ${skipped.join(', ')}` : ''}` };
};

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
  let kept = 0; // statements that stay applied if a later one fails
  for (const [k, block] of blocks.entries()) {
    const statements = splitStatements(block.sql, block.line).statements;
    const inTransaction = block.transaction;
    if (inTransaction) await client.query('BEGIN');
    let ran = 0;
    try {
      for (const s of statements) {
        try {
          await client.query(s.text);
        } catch (e) {
          throw new MigrationFailure(op, s, e, kept + (inTransaction ? 0 : ran) > 0);
        }
        ran++;
      }
      if (k === blocks.length - 1) {
        try {
          await client.query(record);
        } catch (e) {
          throw new MigrationFailure(op, null, e, kept + (inTransaction ? 0 : ran) > 0);
        }
      }
      if (inTransaction) await client.query('COMMIT');
    } catch (e) {
      if (inTransaction) await client.query('ROLLBACK').catch(() => {});
      throw e instanceof MigrationFailure ? e : new MigrationFailure(op, null, e, kept > 0);
    }
    kept += ran;
  }
}

function partialReport(done: string[]): string {
  return done.length ? `${done.join(', ')} (these stay); then ` : '';
}

function notRun(ops: MigrationOp[], from: MigrationOp): string {
  return ops.slice(ops.indexOf(from)).map(label).join(', ');
}

/** The statement's line, or the line and column the server pointed at (its `position` is 1-based in the statement). */
function errorLine(s: Statement, error: unknown): string {
  const pos = Number((error as { position?: string }).position);
  if (!Number.isInteger(pos) || pos < 1 || pos > s.text.length + 1) return String(s.line);
  const before = s.text.slice(0, pos - 1);
  const nl = before.lastIndexOf('\n');
  const line = s.line + (before.match(/\n/g)?.length ?? 0);
  const col = nl === -1 ? s.col + pos - 1 : pos - 1 - nl;
  return `${line}:${col}`;
}

function failureReport(f: MigrationFailure, done: string[], ops: MigrationOp[]): string {
  const { op, statement } = f;
  const which = op.op === 'down' ? 'down section' : 'migration';
  const lines = [
    `${op.file}: ${which} failed${op.section?.transaction === false ? '' : ' and was rolled back'}: ${f.message}`,
    statement ? `  statement at ${op.file}:${errorLine(statement, f.error)}: ${excerpt(statement.text)}` : `  while recording it in ${VERSION_TABLE}`,
  ];
  if (f.partial) lines.push(`  ${op.section?.blocks ? 'the sections before this one, and transaction:false statements,' : 'transaction:false: the statements before this one'} stay applied and it is not recorded; finish or undo them by hand`);
  lines.push(done.length ? `  done before it (these stay): ${done.join(', ')}` : '  nothing was done before it');
  const rest = ops.slice(ops.indexOf(op) + 1).map(label);
  if (rest.length) lines.push(`  not run: ${rest.join(', ')}`);
  return redact(lines.join('\n'));
}

export const migrationsOps = typedRunners<MigrationsStepArgs>({ [MIGRATE_OP]: migrate });
