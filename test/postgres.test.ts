/**
 * The postgres kind against real clusters, driven through the CLI as an operator would: a fresh
 * primary (wal_level minimal, max_wal_senders 0: converging needs a real restart) and no standby;
 * apply the primary spec, then the standby spec, and prove streaming. Each spec is planned and
 * applied with its own --root (reconcile's state and journal go there; the instance's explicit
 * dataDir is used as-is, not re-rooted).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli, type CliResult } from './helpers/cli.js';
import { asPostgres, freePort, pgTempDir, PG_BIN, startCluster, type Cluster } from './helpers/pg.js';
import { Host } from '../src/host/host.js';
import { postgresOps } from '../src/resources/postgres/steps.js';
import type { Step } from '../src/plan/types.js';

const PASSWORD = 'Repl-pw-0ne-7c1e9';
const NEW_PASSWORD = 'Repl-pw-tw0-83ad2';
const WRONG_PASSWORD = 'Wr0ng-pw-f00d4';

let primary: Cluster;
let work: string;
const standby = { dir: '', dataDir: '', socketDir: '', port: 0 };
const rootOf = (name: string) => path.join(work, `root-${name}`);

function primarySpec(o: { workMem?: string; maxWalSenders?: number } = {}): string {
  return `host: db1
postgres:
  instance: {dataDir: ${primary.dataDir}, port: ${primary.port}, socketDir: ${primary.socketDir}, bin: ${PG_BIN}, control: pg_ctl}
  role: primary
  settings: {wal_level: replica, max_wal_senders: ${o.maxWalSenders ?? 10}, wal_keep_size: 64MB, work_mem: ${o.workMem ?? '8MB'}}
  users: [{name: repl, replication: true, password: {env: REPL_PASSWORD}}]
  hba: [{type: host, database: replication, user: repl, address: 127.0.0.1/32, method: scram-sha-256}]
  slots: [db2]
`;
}

function standbySpec(o: { port?: number; dataDir?: string; socketDir?: string; primaryPort?: number; host?: string; slot?: boolean } = {}): string {
  return `host: ${o.host ?? 'db2'}
postgres:
  instance: {dataDir: ${o.dataDir ?? standby.dataDir}, port: ${o.port ?? standby.port}, socketDir: ${o.socketDir ?? standby.socketDir}, bin: ${PG_BIN}, control: pg_ctl}
  role: standby
  primary: {host: 127.0.0.1, port: ${o.primaryPort ?? primary.port}, user: repl, password: {env: REPL_PASSWORD}${o.slot === false ? '' : ', slot: db2'}}
  settings: {hot_standby_feedback: "on"}
`;
}

function writeSpec(name: string, text: string): string {
  const file = path.join(work, `${name}.yaml`);
  writeFileSync(file, text);
  mkdirSync(rootOf(name.split('-')[0]!), { recursive: true });
  return file;
}

const cli = async (args: string[], password = PASSWORD) => {
  const r = await runCli(args, { env: { REPL_PASSWORD: password }, timeoutMs: 180_000 });
  if (process.env.SHOW_CLI) console.log(`$ reconcile ${args.join(' ')}\n${r.stdout}${r.stderr}exit ${r.exitCode}`);
  return r;
};
const plan = (spec: string, name: string, password?: string, extra: string[] = []) => cli(['plan', spec, '--root', rootOf(name), ...extra], password);
const apply = (spec: string, name: string, password?: string) => cli(['apply', spec, '--root', rootOf(name), '--yes'], password);

function psqlStandby(sql: string): string {
  return asPostgres([`${PG_BIN}/psql`, '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', standby.socketDir, '-p', String(standby.port), '-d', 'postgres', '-c', sql]).trim();
}

async function until<T>(what: string, f: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = f();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const streaming = () => primary.psql("SELECT state FROM pg_stat_replication WHERE application_name = 'db2'");

function noSecrets(r: CliResult, ...secrets: string[]): void {
  for (const s of secrets) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
}

beforeAll(async () => {
  primary = await startCluster({ conf: ['wal_level = minimal', 'max_wal_senders = 0'] });
  work = mkdtempSync(path.join(tmpdir(), 'reconcile-pgtest-'));
  standby.dir = pgTempDir('reconcile-pg-standby-');
  standby.dataDir = path.join(standby.dir, 'data');
  standby.socketDir = path.join(standby.dir, 'socket');
  standby.port = await freePort();
});

afterAll(() => {
  if (standby.dir && existsSync(path.join(standby.dataDir, 'postmaster.pid'))) {
    asPostgres([`${PG_BIN}/pg_ctl`, '-D', standby.dataDir, '-m', 'immediate', '-w', 'stop'], { allowFail: true });
  }
  primary?.destroy();
  if (standby.dir) rmSync(standby.dir, { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('postgres primary and standby, proven by streaming', () => {
  it('applies the primary spec: users, hba, slot, settings with the restart they need', async () => {
    const spec = writeSpec('primary', primarySpec());
    const startedBefore = primary.psql('SELECT pg_postmaster_start_time()');
    const p = await plan(spec, 'primary');
    expect(p.stderr).toBe('');
    expect(p.exitCode).toBe(2);
    expect(p.stdout).toContain('~ postgres.settings[wal_level]  update, risk restart');
    expect(p.stdout).toContain('wal_level: minimal -> replica (needs a server restart)');
    expect(p.stdout).toContain('~ postgres.settings[work_mem]  update, risk reload');
    expect(p.stdout).toContain('+ postgres.users[repl]  create, risk none');
    expect(p.stdout).toContain('+ postgres.hba[host replication repl 127.0.0.1/32]  create, risk reload');
    expect(p.stdout).toContain('+host    replication     repl            127.0.0.1/32            scram-sha-256');
    expect(p.stdout).toContain('+ postgres.slots[db2]  create, risk none');
    noSecrets(p, PASSWORD);
    const hbaBefore = readFileSync(path.join(primary.dataDir, 'pg_hba.conf'), 'utf8');

    const a = await apply(spec, 'primary');
    expect(a.stderr).toBe('');
    expect(a.stdout).toContain('converged');
    expect(a.exitCode).toBe(0);
    noSecrets(a, PASSWORD);
    expect(primary.psql('SELECT pg_postmaster_start_time()')).not.toBe(startedBefore);
    expect(primary.psql("SELECT current_setting('wal_level'), current_setting('max_wal_senders'), current_setting('work_mem')")).toBe('replica|10|8MB');
    expect(primary.psql("SELECT rolreplication, rolcanlogin, rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'repl'")).toBe('t|t|t');
    expect(primary.psql("SELECT slot_type FROM pg_replication_slots WHERE slot_name = 'db2'")).toBe('physical');
    // Every other line of pg_hba.conf kept byte for byte: the new rule is one inserted line.
    const hbaAfter = readFileSync(path.join(primary.dataDir, 'pg_hba.conf'), 'utf8');
    const added = hbaAfter.split('\n').filter((l) => !hbaBefore.split('\n').includes(l));
    expect(added).toEqual(['host    replication     repl            127.0.0.1/32            scram-sha-256']);
    expect(hbaAfter.replace(`${added[0]}\n`, '')).toBe(hbaBefore);

    const again = await plan(spec, 'primary');
    expect(again.stdout).toContain('in sync');
    expect(again.exitCode).toBe(0);
  });

  it('refuses a standby whose primary rejects the password, touching nothing', async () => {
    const spec = writeSpec('standby-wrong', standbySpec());
    const r = await plan(spec, 'standby', WRONG_PASSWORD);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`the primary 127.0.0.1:${primary.port} refused the password for user repl`);
    noSecrets(r, WRONG_PASSWORD);
    expect(existsSync(standby.dataDir)).toBe(false);
  });

  it('builds the standby with a base backup; it streams and reads what the primary writes', async () => {
    const spec = writeSpec('standby', standbySpec());
    const p = await plan(spec, 'standby');
    expect(p.stderr).toBe('');
    expect(p.exitCode).toBe(2);
    expect(p.stdout).toContain('+ postgres.standby  create, risk none');
    expect(p.stdout).toContain(`pg_basebackup -X stream -R -c fast -S db2 from 127.0.0.1:${primary.port} as repl`);
    noSecrets(p, PASSWORD);

    const a = await apply(spec, 'standby');
    expect(a.stderr).toBe('');
    noSecrets(a, PASSWORD);
    expect(a.stdout).toMatch(/done {2}verify that .* streams from .*streaming/);
    expect(a.exitCode).toBe(0);
    expect(streaming()).toBe('streaming');
    expect(psqlStandby('SELECT pg_is_in_recovery()')).toBe('t');
    expect(psqlStandby("SELECT current_setting('port')")).toBe(String(standby.port));
    expect(readFileSync(path.join(standby.dataDir, 'postgresql.auto.conf'), 'utf8')).toContain("primary_slot_name = 'db2'");

    primary.psql('CREATE TABLE proof (note text); INSERT INTO proof VALUES (\'written on the primary\')');
    expect(await until('the row on the standby', () => psqlStandby('SELECT note FROM proof') || undefined)).toBe('written on the primary');

    const again = await plan(spec, 'standby');
    expect(again.stdout).toContain('in sync');
    expect(again.exitCode).toBe(0);
    const primaryAgain = await plan(path.join(work, 'primary.yaml'), 'primary');
    expect(primaryAgain.exitCode).toBe(0);
  });

  it('plans a reload for work_mem and a restart for max_wal_senders, before doing either', async () => {
    const spec = writeSpec('primary-workmem', primarySpec({ workMem: '16MB' }));
    const p = await plan(spec, 'primary');
    expect(p.exitCode).toBe(2);
    expect(p.stdout).toContain('~ postgres.settings[work_mem]  update, risk reload');
    expect(p.stdout).toContain('work_mem: 8MB -> 16MB (applied by a reload)');
    expect(p.stdout).toContain('1 change pending');
    const started = primary.psql('SELECT pg_postmaster_start_time()');
    const a = await apply(spec, 'primary');
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toContain('reload the configuration');
    expect(primary.psql("SELECT current_setting('work_mem')")).toBe('16MB');
    expect(primary.psql('SELECT pg_postmaster_start_time()')).toBe(started);

    // Lowered, not raised: a standby needs max_wal_senders at least as high as its primary's.
    const spec2 = writeSpec('primary-senders', primarySpec({ workMem: '16MB', maxWalSenders: 8 }));
    const p2 = await plan(spec2, 'primary');
    expect(p2.exitCode).toBe(2);
    expect(p2.stdout).toContain('~ postgres.settings[max_wal_senders]  update, risk restart');
    expect(p2.stdout).toContain('max_wal_senders: 10 -> 8 (needs a server restart)');
    expect(primary.psql("SELECT current_setting('max_wal_senders')")).toBe('10');
    const a2 = await apply(spec2, 'primary');
    expect(a2.exitCode).toBe(0);
    expect(a2.stdout).toMatch(/done {2}restart PostgreSQL .*restarted for max_wal_senders/);
    expect(primary.psql("SELECT current_setting('max_wal_senders')")).toBe('8');
    expect(primary.psql('SELECT pg_postmaster_start_time()')).not.toBe(started);
    expect(await until('the standby to reconnect', () => (streaming() === 'streaming' ? true : undefined))).toBe(true);
  });

  it('changes the replication password, redacted everywhere, and the standby reconnects', async () => {
    const spec = writeSpec('primary-newpw', primarySpec({ workMem: '16MB', maxWalSenders: 8 }));
    const planFile = path.join(work, 'primary-newpw.plan.json');
    const p = await plan(spec, 'primary', NEW_PASSWORD, ['--format', 'json', '--out', planFile]);
    expect(p.exitCode).toBe(2);
    const planText = readFileSync(planFile, 'utf8');
    const planned = JSON.parse(planText) as { changes: { address: string; summary: string }[] };
    expect(planned.changes.map((c) => c.address)).toEqual(['postgres.users[repl]']);
    expect(planned.changes[0]!.summary).toBe('change password (not shown) of role repl');
    for (const s of [NEW_PASSWORD, PASSWORD]) expect(planText).not.toContain(s);
    noSecrets(p, NEW_PASSWORD, PASSWORD);
    const a = await cli(['apply', planFile, '--yes'], NEW_PASSWORD);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    noSecrets(a, NEW_PASSWORD, PASSWORD);

    const backendStart = primary.psql("SELECT backend_start FROM pg_stat_replication WHERE application_name = 'db2'");
    const sspec = writeSpec('standby-newpw', standbySpec());
    const sp = await plan(sspec, 'standby', NEW_PASSWORD);
    expect(sp.exitCode).toBe(2);
    expect(sp.stdout).toContain('~ postgres.standby  update, risk reload');
    expect(sp.stdout).toContain('password (not shown)');
    noSecrets(sp, NEW_PASSWORD, PASSWORD);
    const sa = await apply(sspec, 'standby', NEW_PASSWORD);
    expect(sa.stderr).toBe('');
    noSecrets(sa, NEW_PASSWORD, PASSWORD);
    expect(sa.exitCode).toBe(0);
    // A new walsender connection, authenticated with the new password.
    const reconnected = await until('a new replication connection', () => {
      const row = primary.psql("SELECT backend_start || '|' || state FROM pg_stat_replication WHERE application_name = 'db2'");
      return row && !row.startsWith(backendStart) && row.endsWith('|streaming') ? row : undefined;
    });
    expect(reconnected).toContain('streaming');
    for (const f of readdirSync(rootOf('standby'), { recursive: true }) as string[]) {
      const full = path.join(rootOf('standby'), f);
      if (!existsSync(full) || !readdirSync(path.dirname(full)).length) continue;
      try {
        expect(readFileSync(full, 'utf8')).not.toContain(NEW_PASSWORD);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EISDIR') throw e;
      }
    }
    expect((await plan(sspec, 'standby', NEW_PASSWORD)).exitCode).toBe(0);
  });

  it('a wrong password on a running standby is a clear error and changes nothing', async () => {
    const spec = writeSpec('standby-wrong2', standbySpec());
    const before = readFileSync(path.join(standby.dataDir, 'postgresql.auto.conf'), 'utf8');
    const r = await apply(spec, 'standby', WRONG_PASSWORD);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('refused the password for user repl');
    expect(r.stderr).toContain('nothing was changed');
    noSecrets(r, WRONG_PASSWORD, NEW_PASSWORD);
    expect(readFileSync(path.join(standby.dataDir, 'postgresql.auto.conf'), 'utf8')).toBe(before);
    expect(streaming()).toBe('streaming');
  });

  it('rebuilds a data directory of another cluster only with --allow-destructive, keeping the old one aside', async () => {
    const other = await startCluster();
    try {
      other.psql('CREATE TABLE mine (x int)');
      const spec = writeSpec('db3', standbySpec({ host: 'db3', dataDir: other.dataDir, port: other.port, socketDir: other.socketDir, slot: false }));
      const p = await plan(spec, 'db3', NEW_PASSWORD);
      expect(p.exitCode).toBe(2);
      expect(p.stdout).toContain('-/+ postgres.standby  replace, risk destructive');
      expect(p.stdout).toContain(`${other.dataDir} is another cluster (system identifier`);
      const refused = await apply(spec, 'db3', NEW_PASSWORD);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain('refusing destructive changes without --allow-destructive: postgres.standby');
      expect(other.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'mine'")).toBe('1');

      const a = await cli(['apply', spec, '--root', rootOf('db3'), '--yes', '--allow-destructive'], NEW_PASSWORD);
      expect(a.stderr).toBe('');
      expect(a.exitCode).toBe(0);
      expect(a.stdout).toContain('the old data directory is kept at');
      const aside = readdirSync(path.dirname(other.dataDir)).filter((f) => f.startsWith('data.reconcile-old-'));
      expect(aside).toHaveLength(1);
      expect(existsSync(path.join(path.dirname(other.dataDir), aside[0]!, 'PG_VERSION'))).toBe(true);
      expect(await until('db3 streaming', () => (primary.psql("SELECT state FROM pg_stat_replication WHERE application_name = 'db3'") === 'streaming' ? true : undefined))).toBe(true);
      expect(other.psql('SELECT note FROM proof')).toBe('written on the primary');
      expect((await plan(spec, 'db3', NEW_PASSWORD)).exitCode).toBe(0);
    } finally {
      other.destroy();
    }
  });
});

describe('postgres errors, each one clear line', () => {
  it('a primary that does not answer', async () => {
    const dir = pgTempDir();
    try {
      const spec = writeSpec('standby-unreachable', standbySpec({ dataDir: path.join(dir, 'data'), primaryPort: await freePort() }));
      const r = await plan(spec, 'standby', NEW_PASSWORD);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/^postgres: cannot take a base backup: the primary 127\.0\.0\.1:\d+ is unreachable \(.*Connection refused.*\); nothing was changed\n$/);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a data directory owned by another user', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-pg-rootowned-'));
    try {
      writeFileSync(path.join(dir, 'keep.txt'), 'mine\n');
      const spec = writeSpec('standby-owner', standbySpec({ dataDir: dir }));
      const r = await plan(spec, 'standby', NEW_PASSWORD);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(`the data directory ${dir} is owned by root, not postgres`);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(readFileSync(path.join(dir, 'keep.txt'), 'utf8')).toBe('mine\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a standby that does not stream fails the verify step, showing its last log lines', async () => {
    const dir = pgTempDir();
    try {
      const logFile = path.join(dir, 'data.log');
      writeFileSync(logFile, 'LOG:  started\nFATAL:  could not connect to the primary server: Connection refused\n');
      const instance = { dataDir: path.join(dir, 'data'), port: await freePort(), bin: PG_BIN, socketDir: path.join(dir, 'socket'), osUser: 'postgres', control: 'pg_ctl', logFile };
      const step: Step = { id: 'v', op: 'postgres.verifyStreaming', title: 'verify', args: { instance, target: { host: '127.0.0.1', port: primary.port, user: 'repl', applicationName: 'nobody', slot: null }, passwordRef: 'env:X' } };
      const run = postgresOps['postgres.verifyStreaming']!(step, { host: new Host('/'), timeoutMs: 1_500, secrets: new Map([['env:X', NEW_PASSWORD]]) });
      await expect(run).rejects.toThrow(/is not streaming from 127\.0\.0\.1:\d+ within 2 s \(wal receiver: server not answering.*\); last lines of .*data\.log:\nLOG: {2}started\nFATAL: {2}could not connect to the primary server/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an hba rule PostgreSQL rejects: the step fails with its error and the file is put back', async () => {
    const hba = path.join(primary.dataDir, 'pg_hba.conf');
    const before = readFileSync(hba, 'utf8');
    const spec = writeSpec('primary-badhba', primarySpec({ workMem: '16MB', maxWalSenders: 8 }).replace(
      'hba: [',
      'hba: [{type: host, database: all, user: nobody, address: 10.9.9.9/32, method: scram-sha-256, options: "bogus=1"}, ',
    ));
    const r = await apply(spec, 'primary', NEW_PASSWORD);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('PostgreSQL rejects the new');
    expect(r.stdout).toContain('unrecognized authentication option name: "bogus"');
    expect(readFileSync(hba, 'utf8')).toBe(before);
    expect(primary.psql('SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL')).toBe('0');
  });

  it('a port another server already listens on', async () => {
    const dir = pgTempDir();
    try {
      const spec = writeSpec('standby-port', standbySpec({ dataDir: path.join(dir, 'data'), port: primary.port }));
      const r = await plan(spec, 'standby', NEW_PASSWORD);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(`cannot start the standby on port ${primary.port}: another process listens on 127.0.0.1:${primary.port}`);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
