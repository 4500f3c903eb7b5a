import type { Change } from '../../plan/types.js';
import { UserError } from '../../errors.js';
import { redact, refKey } from '../../spec/secrets.js';
import type { MigrationsSpec } from '../../spec/types.js';
import type { DiffInput, DiffOutput } from '../types.js';
import { NOT_TRANSACTIONAL } from './mysql.js';
import { compareVersions, type Section } from './parse.js';
import type { AppliedRow, EntryObserved, FailedRow, MigrateArgs, MigrationFile, MigrationOp, MigrationsObserved, MigrationsStepArgs } from './types.js';
import { stepMaker } from '../../plan/steps.js';
import { observedEntry, risk } from './risk.js';

export const MIGRATE_OP = 'migrations.migrate' satisfies keyof MigrationsStepArgs;
const migrationsStep = stepMaker<MigrationsStepArgs>();

/** A migrations state the user must resolve (a changed or vanished applied migration, ...). */
export class MigrationsError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationsError';
  }
}

export function entryAddress(name: string): string {
  return `migrations[${name}]`;
}

/** Said on the plan, so the reviewer sees that a half-run migration runs again. */
function retryNote(op: MigrationOp): string[] {
  return op.retry ? [`retry: ${op.version} is recorded as failed; its ${op.op} section runs again from its first statement`] : [];
}

function fileLabel(f: Pick<MigrationFile, 'version' | 'name'>): string {
  return `${f.version}_${f.name}`;
}

/**
 * The SQL that runs, as a unified diff of new lines at the section's real line numbers in the
 * file: the plan shows the reviewer exactly what will run, in text and markdown alike.
 */
export function sectionDiff(file: string, section: Section, which: 'up' | 'down'): string {
  return (section.blocks ?? [section])
    .map((b) => {
      const lines = b.sql.split('\n');
      return redact(`--- /dev/null\n+++ b/${file} (migrate:${which}${b.transaction ? '' : ' transaction:false'})\n@@ -0,0 +${b.line},${lines.length} @@\n${lines.map((l) => `+${l}`).join('\n')}\n`);
    })
    .join('');
}

/** How a section runs, for the plan's notes. */
function runsHow(section: Section, which: 'up' | 'down'): string {
  const row = which === 'up' ? 'its version row' : 'the removal of its version row';
  if (section.blocks) return `${section.blocks.length} sections, in file order, each in one transaction or (transaction:false) statement by statement; ${row} goes with the last (a failure keeps the sections before it)`;
  if (which === 'down') return section.transaction ? 'runs in one transaction with the removal of its version row' : 'transaction:false: its statements run one by one outside a transaction; the version row is removed after';
  return section.transaction
    ? 'runs in one transaction with its version row: a failure leaves nothing of it'
    : 'transaction:false: its statements run one by one outside a transaction (a failure keeps the ones before it); recorded after the last';
}

export function diffMigrations({ spec, observed }: DiffInput<MigrationsObserved>): DiffOutput {
  const out: DiffOutput = { changes: [], observedByAddress: {}, managed: [], warnings: [] };
  for (const entry of spec.migrations ?? []) {
    const address = entryAddress(entry.name);
    out.managed.push(address);
    const o = observed.entries[entry.name];
    if (!o) throw new Error(`internal: migrations[${entry.name}] was not observed`);
    // Stale-plan digest: the files (what would run) and the version table (what ran), not when.
    out.observedByAddress[address] = {
      files: o.files.map((f) => [f.version, f.checksum, f.down ? f.down.sql : null]),
      applied: o.db ? o.db.applied.map((r) => [r.version, r.checksum]) : null,
      // Only when there are some: PostgreSQL's digest stays what it was.
      ...(o.db?.failed?.length ? { failed: o.db.failed.map((r) => [r.version, r.op, r.failedAt]) } : {}),
    };
    // A standby host (the spec says so; observe did not connect): migrations run on the primary.
    if (spec.postgres?.role === 'standby' || !o.db) {
      out.warnings!.push(`${address}: skipped on this host: postgres.role is standby, which is read-only; migrations run on the primary`);
      continue;
    }
    // The database itself is a standby in recovery: it cannot be written.
    if (o.db.inRecovery) {
      out.warnings!.push(
        o.db.dialect === 'mysql'
          ? `${address}: skipped: the database is read-only (@@read_only is on: a replica); point the entry at the primary`
          : `${address}: skipped: the database is in recovery (a read-only standby); point the entry at the primary`,
      );
      continue;
    }
    const failed = o.db.failed ?? [];
    if (entry.retry !== undefined && !failed.some((r) => compareVersions(r.version, entry.retry!) === 0)) {
      out.warnings!.push(`${address}: retry: ${entry.retry} is not recorded as failed (any more): remove retry from the entry`);
    }
    out.changes.push(...planEntry(entry, o, o.db.applied, failed, spec.host, observed.git?.commit ?? null, observed));
  }
  return out;
}

/** What the plan says of a migration that stopped halfway, and what the operator does about it. */
function failedProblem(entry: MigrationsSpec, row: FailedRow, file: string): string {
  const section = row.op === 'down' ? 'down section' : 'up section';
  return [
    `${file}: its ${section} failed ${row.failedAt} on ${row.failedBy} and is recorded as failed, not applied:`,
    `  ${row.statement}: ${row.error}`,
    `  not transactional on MySQL: ${row.ranBefore} statement${row.ranBefore === 1 ? '' : 's'} before it ran and stay applied.`,
    `  Fix the database by hand, then say so on migrations[${entry.name}]:`,
    row.op === 'up'
      ? `  stamp: "${row.version}" when the database now holds all of its up section (recorded as applied, not run), or`
      : `  when you finished the down section by hand, remove its row (DELETE FROM reconcile_migrations WHERE entry = '${entry.name}' AND version = '${row.version}'), or`,
    `  retry: "${row.version}" to run its ${section} again (after undoing what ran of it, or when it is safe to run again).`,
  ].join('\n');
}

function planEntry(entry: MigrationsSpec, o: EntryObserved, appliedRows: AppliedRow[], failed: FailedRow[], host: string, commit: string | null, observed: MigrationsObserved): Change[] {
  const address = entryAddress(entry.name);
  const files = new Map(o.files.map((f) => [BigInt(f.version), f]));
  const fileOf = (v: string) => files.get(BigInt(v));
  const mysql = o.db?.dialect === 'mysql';

  // A migration that stopped halfway blocks everything until the operator says what the database holds.
  const retried = new Set<bigint>();
  const blocked: string[] = [];
  for (const row of failed) {
    const file = fileOf(row.version)?.file ?? `${row.version}_${row.name}.sql (no such file in ${entry.dir} any more)`;
    if (entry.retry !== undefined && compareVersions(entry.retry, row.version) === 0) retried.add(BigInt(row.version));
    else if (!(row.op === 'up' && entry.stamp !== undefined && compareVersions(entry.stamp, row.version) >= 0)) blocked.push(failedProblem(entry, row, file));
  }
  if (blocked.length) throw new MigrationsError(`${address}: ${blocked.join('\n' + `${address}: `)}`);
  // A failed down being retried is still (partly) applied: it goes down again.
  const applied = [...appliedRows, ...failed.filter((r) => r.op === 'down' && retried.has(BigInt(r.version))).map((r): AppliedRow => ({ version: r.version, name: r.name, checksum: r.checksum, appliedAt: r.failedAt, appliedBy: r.failedBy, specCommit: null, stamped: false }))].sort((a, b) => compareVersions(a.version, b.version));
  const isApplied = new Set(applied.map((r) => BigInt(r.version)));

  // Applied, but its file changed or is gone: what ran is no longer what the repository says.
  const problems: string[] = [];
  for (const row of applied) {
    const f = fileOf(row.version);
    if (!f) {
      problems.push(`${row.version}_${row.name}.sql is applied (${row.stamped ? 'stamped' : 'run'} ${row.appliedAt} by ${row.appliedBy}) but there is no such file in ${entry.dir} any more`);
    } else if (f.checksum !== row.checksum) {
      problems.push(`${f.file}: checksum mismatch: applied with ${row.checksum.slice(0, 12)}, the file's up section is now ${f.checksum.slice(0, 12)} (an applied migration is never edited: add a new one)`);
    }
  }
  if (problems.length) throw new MigrationsError(`${address}: ${problems.join('\n' + `${address}: `)}`);

  const versions = o.files.map((f) => f.version);
  const target = entry.target === undefined || entry.target === 'head' ? (versions.at(-1) ?? '0') : entry.target;
  if (!/^0+$/.test(target) && !fileOf(target)) throw new MigrationsError(`${address}: target ${target} is not the version of a file in ${entry.dir}`);
  const stamp = entry.stamp;
  if (stamp !== undefined) {
    if (!fileOf(stamp)) throw new MigrationsError(`${address}: stamp ${stamp} is not the version of a file in ${entry.dir}`);
    if (compareVersions(stamp, target) > 0) throw new MigrationsError(`${address}: stamp ${stamp} is above target ${target}`);
  }

  // Target below the current version: the applied ones above it go down, newest first.
  const down = applied.filter((r) => compareVersions(r.version, target) > 0).reverse().map((r) => fileOf(r.version)!);
  const noDown = down.filter((f) => !f.down);
  if (noDown.length) {
    throw new MigrationsError(
      `${address}: cannot go down to ${target}: ${noDown.map((f) => f.file).join(', ')} ${noDown.length === 1 ? 'has' : 'have'} no -- migrate:down section (or it holds no statement), so ${noDown.length === 1 ? 'it' : 'they'} cannot be undone`,
    );
  }
  const pending = o.files.filter((f) => compareVersions(f.version, target) <= 0 && !isApplied.has(BigInt(f.version)));
  // Stamp: adopt a database migrated by hand or another tool; record, do not run.
  const stamped = stamp === undefined ? [] : pending.filter((f) => compareVersions(f.version, stamp) <= 0);
  const up = pending.filter((f) => !stamped.includes(f));

  // Pending older than the newest that stays applied: it would run after what was written to follow it.
  const kept = applied.filter((r) => compareVersions(r.version, target) <= 0).map((r) => r.version);
  const newest = kept.reduce<string | null>((m, v) => (m === null || compareVersions(v, m) > 0 ? v : m), null);
  const early = newest === null ? [] : up.filter((f) => compareVersions(f.version, newest) < 0);
  if (early.length && !entry.allowOutOfOrder) {
    throw new MigrationsError(
      `${address}: ${early.map((f) => f.file).join(', ')} ${early.length === 1 ? 'is' : 'are'} pending but older than ${newest}, which is applied; set allowOutOfOrder: true to run ${early.length === 1 ? 'it' : 'them'} anyway`,
    );
  }

  const retry = (f: MigrationFile) => (retried.has(BigInt(f.version)) ? { retry: true } : {});
  const ops: MigrationOp[] = [
    ...down.map((f): MigrationOp => ({ op: 'down', version: f.version, name: f.name, file: f.file, checksum: f.checksum, section: f.down!, ...retry(f) })),
    ...stamped.map((f): MigrationOp => ({ op: 'stamp', version: f.version, name: f.name, file: f.file, checksum: f.checksum })),
    ...up.map((f): MigrationOp => ({ op: 'up', version: f.version, name: f.name, file: f.file, checksum: f.checksum, section: f.up, ...retry(f) })),
  ];
  if (ops.length === 0) return [];

  // One step runs them all under one advisory lock: a second run waits, then finds nothing to do.
  const args: MigrateArgs = { entry: entry.name, database: refKey(entry.database), host, commit, ops };
  const counts = [down.length && `${down.length} down`, stamped.length && `${stamped.length} stamped`, up.length && `${up.length} up`].filter(Boolean).join(', ');
  const step = migrationsStep(MIGRATE_OP, args, { id: `migrations:${entry.name}`, title: `migrate ${entry.name} to ${target === versions.at(-1) ? `head (${target})` : target}: ${counts}` });

  // The kind's one judgement of (what the database has, what the spec wants), as review makes it.
  const judge = (change: string) => risk(observedEntry(observed, change, entry).entry, entry).risk;
  return ops.map((op): Change => {
    const f = fileOf(op.version)!;
    const at = `${address}/${fileLabel(op)}`;
    if (op.op === 'down') {
      return {
        address: at,
        kind: 'migrations',
        action: 'run',
        risk: judge(at),
        summary: `revert ${op.file} (its down section) to reach target ${target}`,
        diff: sectionDiff(op.file, op.section!, 'down'),
        steps: [step],
        notes: [...retryNote(op), mysql ? `${NOT_TRANSACTIONAL}; its statements run one by one, the version row is removed after the last` : runsHow(op.section!, 'down')],
      };
    }
    if (op.op === 'stamp') {
      return {
        address: at,
        kind: 'migrations',
        action: 'update',
        risk: judge(at),
        summary: `stamp ${op.file} as applied without running it (stamp: ${stamp})`,
        diff: '',
        steps: [step],
        notes: [`adopts a database migrated by hand or another tool: only its version row (checksum ${f.checksum.slice(0, 12)}) is written`],
      };
    }
    return {
      address: at,
      kind: 'migrations',
      action: 'run',
      risk: judge(at),
      summary: `apply ${op.file}`,
      diff: sectionDiff(op.file, op.section!, 'up'),
      steps: [step],
      notes: [
        ...retryNote(op),
        mysql ? `${NOT_TRANSACTIONAL}; its statements run one by one, recorded after the last (a failure is recorded as failed and stops the next plan)` : runsHow(op.section!, 'up'),
      ],
    };
  });
}
