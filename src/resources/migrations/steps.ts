import { redact } from '../../spec/secrets.js';
import { UserError } from '../../errors.js';
import { StepError, typedRunners, type StepContext, type StepOutcome } from '../../plan/steps.js';
import { describeDbError, describeUrl } from './db.js';
import { MigrationFailure, dialectFor, excerpt, type Dialect, type Session } from './dialect.js';
import { MIGRATE_OP } from './diff.js';
import type { Statement } from './parse.js';
import type { MigrateArgs, MigrationOp, MigrationsStepArgs } from './types.js';

/** Below this much time left before the step's deadline, the next migration is not started. */
const MIN_START_MS = 1_000;

function label(op: MigrationOp): string {
  return `${op.version}_${op.name}`;
}

/**
 * Runs an entry's migrations in plan order under the database's migrations lock, held on one
 * connection for the whole run. After taking the lock the version table is read again and what
 * another run already did is skipped; a migration another run left failed is not touched unless
 * the plan said retry or stamp. The first failure stops the run; the ones before it stay applied
 * and are reported. How one migration runs (one transaction, or statement by statement) is the
 * dialect's.
 */
const migrate = async (args: MigrateArgs, ctx: StepContext): Promise<StepOutcome> => {
  const url = ctx.secrets.get(args.database);
  if (url === undefined) throw new StepError(`internal: the database reference of migrations[${args.entry}] was not resolved`);
  const where = describeUrl(url);
  // The watchdog bounds the step; the server bounds each statement so nothing runs on past it.
  const deadline = Date.now() + ctx.timeoutMs;
  const left = () => deadline - Date.now();

  let dialect: Dialect;
  let session: Session;
  try {
    dialect = dialectFor(url, `migrations[${args.entry}]`);
    session = await dialect.connect(url, { timeoutMs: Math.min(10_000, ctx.timeoutMs) });
  } catch (e) {
    throw new StepError(e instanceof UserError ? e.message : `cannot connect to ${where}: ${describeDbError(e)}`);
  }
  const done: string[] = [];
  const skipped: string[] = [];
  try {
    if (!(await session.lock(Math.max(1, left() - MIN_START_MS)))) {
      throw new StepError(`another run holds the migrations lock of ${where} (${dialect.lockLabel}); gave up after ${Math.round(ctx.timeoutMs / 1000)} s (watchdog.stepTimeout)`);
    }
    try {
      await session.ensureVersionTable();
      // Under the lock: what another host or run did while we waited counts.
      const state = await session.readState(args.entry);
      const applied = new Map(state.applied.map((r) => [BigInt(r.version), r]));
      const failed = new Map(state.failed.map((r) => [BigInt(r.version), r]));
      for (const op of args.ops) {
        const bad = failed.get(BigInt(op.version));
        if (bad && !op.retry && op.op !== 'stamp') {
          throw new StepError(`${partialReport(done)}${op.file} is recorded as failed in ${dialect.versionTable} (its ${bad.op} section, ${bad.failedAt} by ${bad.failedBy}): plan again`);
        }
        // A failed down being retried reverts what is still applied of it.
        const row = applied.get(BigInt(op.version)) ?? (op.retry && bad?.op === 'down' ? bad : undefined);
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
        await session.runOp(op, args, left(), ctx.fencingToken ?? null);
        done.push(`${op.op === 'down' ? 'reverted' : op.op === 'stamp' ? 'stamped' : 'applied'} ${label(op)}`);
      }
    } finally {
      await session.unlock().catch(() => {});
    }
  } catch (e) {
    if (e instanceof MigrationFailure) throw new StepError(failureReport(e, done, args.ops, dialect));
    if (e instanceof StepError) throw e;
    throw new StepError(`${partialReport(done)}${where}: ${describeDbError(e)}`);
  } finally {
    await session.close().catch(() => {});
  }
  if (done.length === 0) return { status: 'already', detail: `already done by another run: ${skipped.join(', ')}` };
  return { status: 'done', detail: `${done.join(', ')}${skipped.length ? `; already done by another run: ${skipped.join(', ')}` : ''}` };
};

function partialReport(done: string[]): string {
  return done.length ? `${done.join(', ')} (these stay); then ` : '';
}

function notRun(ops: MigrationOp[], from: MigrationOp): string {
  return ops.slice(ops.indexOf(from)).map(label).join(', ');
}

/**
 * The statement's line, or the line and column the server pointed at: PostgreSQL's `position`
 * (1-based in the statement), MySQL's "... at line N" (of the statement).
 */
function errorLine(s: Statement, error: unknown): string {
  const mysqlLine = /at line (\d+)$/.exec((error as { sqlMessage?: string }).sqlMessage ?? '');
  if (mysqlLine) return String(s.line + Number(mysqlLine[1]) - 1);
  const pos = Number((error as { position?: string }).position);
  if (!Number.isInteger(pos) || pos < 1 || pos > s.text.length + 1) return String(s.line);
  const before = s.text.slice(0, pos - 1);
  const nl = before.lastIndexOf('\n');
  const line = s.line + (before.match(/\n/g)?.length ?? 0);
  const col = nl === -1 ? s.col + pos - 1 : pos - 1 - nl;
  return `${line}:${col}`;
}

function failureReport(f: MigrationFailure, done: string[], ops: MigrationOp[], dialect: Dialect): string {
  const { op, statement, details } = f;
  const which = op.op === 'down' ? 'down section' : 'migration';
  const lines = [
    `${op.file}: ${which} failed${details.rolledBack ? ' and was rolled back' : ''}: ${f.message}`,
    statement ? `  statement at ${op.file}:${errorLine(statement, f.error)}: ${excerpt(statement.text)}` : `  while recording it in ${dialect.versionTable}`,
  ];
  if (details.notTransactional) {
    lines.push(`  ${details.notTransactional}`);
    if (details.ranBefore.length) {
      lines.push(`  ran before it and stay applied (${details.ranBefore.length}):`, ...details.ranBefore.map((s) => `    ${op.file}:${s.line}: ${excerpt(s.text)}`));
    } else if (statement) {
      lines.push('  it was the first statement: nothing of this migration ran, it stays pending');
    }
  } else if (details.ranBefore.length) {
    lines.push(`  ${op.section?.blocks ? 'the sections before this one, and transaction:false statements,' : 'transaction:false: the statements before this one'} stay applied and it is not recorded; finish or undo them by hand`);
  }
  if (details.recorded === true) {
    lines.push(
      `  recorded as failed (not applied) in ${dialect.versionTable}: the next plan stops here until you fix the database by hand,`,
      `  then set stamp: "${op.version}" on the entry (the database now holds all of its up section) or retry: "${op.version}" (run this section again)`,
    );
  } else if (typeof details.recorded === 'string') {
    lines.push(`  could not record the failure in ${dialect.versionTable} (${details.recorded}): fix the database by hand before the next apply, which would run this migration again`);
  }
  lines.push(done.length ? `  done before it (these stay): ${done.join(', ')}` : '  nothing was done before it');
  const rest = ops.slice(ops.indexOf(op) + 1).map(label);
  if (rest.length) lines.push(`  not run: ${rest.join(', ')}`);
  return redact(lines.join('\n'));
}

export const migrationsOps = typedRunners<MigrationsStepArgs>({ [MIGRATE_OP]: migrate });
