import { sha256 } from '../../hash.js';
import type { Host } from '../../host/host.js';
import { parseIdFile } from '../../host/accounts.js';
import { describeFailure } from '../../diagnostics/hang.js';
import { StepError, type StepContext, type StepOutcome, type StepRunner } from '../types.js';
import type { Step } from '../../plan/types.js';
import { asOsUser, classifyConnError, logTail, psqlLocal, psqlRemote, type Instance } from './instance.js';
import { liveHost } from './observe.js';
import { makeVerifier, verifyPassword } from './scram.js';
import { mergeAutoConf, sqlIdent, sqlLiteral } from './settings.js';
import { parseConninfo, renderConninfo } from './conninfo.js';
import type { StandbyTarget } from './diff.js';

/**
 * The postgres kind's step types. Each re-checks the server right before it acts and says
 * `already` when there is nothing to do. Secrets come from ctx.secrets by reference key; they
 * reach the server as a SCRAM verifier or through the child's environment, never through argv.
 */
const inst = (step: Step) => step.args.instance as Instance;
const secret = (ctx: StepContext, ref: string): string => {
  const v = ctx.secrets.get(ref);
  if (v === undefined) throw new StepError(`the secret ${ref} is not resolved`);
  return v;
};

async function sql(ctx: StepContext, i: Instance, text: string): Promise<string> {
  const r = await psqlLocal(liveHost(ctx.host), i, text);
  if (!r.ok) throw new StepError(`SQL on ${i.dataDir} failed: ${firstError(r.stderr) || describeFailure(r)}`);
  return r.stdout.trim();
}

const firstError = (stderr: string) => stderr.trim().split('\n').filter((l) => /ERROR|FATAL|error:/.test(l)).join('; ') || stderr.trim().split('\n')[0] || '';

async function running(ctx: StepContext, i: Instance): Promise<boolean> {
  return (await psqlLocal(liveHost(ctx.host), i, 'SELECT 1;\n', 10_000)).ok;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function osIds(host: Host, user: string): Promise<{ uid: number; gid: number }> {
  const passwd = (await host.readLive('/etc/passwd')) ?? '';
  const line = passwd.split('\n').find((l) => l.split(':')[0] === user);
  const uid = parseIdFile(line ?? '').get(user);
  if (!line || uid === undefined) throw new StepError(`the OS user ${user} does not exist`);
  return { uid, gid: Number(line.split(':')[3]) };
}

const alterSystem: StepRunner = async (step, ctx) => {
  const { name, value } = step.args as { name: string; value: string };
  if (!/^[a-z_][a-z0-9_.]*$/.test(name)) throw new StepError(`not a setting name: ${name}`);
  await sql(ctx, inst(step), `ALTER SYSTEM SET ${name} = ${sqlLiteral(value)};\n`);
  return { status: 'done' };
};

/** pg_reload_conf() only signals: wait until new sessions see the new configuration. */
const reload: StepRunner = async (step, ctx) => {
  const i = inst(step);
  const before = await sql(ctx, i, 'SELECT extract(epoch FROM pg_conf_load_time()), pg_reload_conf();\n');
  const t0 = Number(before.split('|')[0]);
  for (let waited = 0; waited < 10_000; waited += 100) {
    await sleep(100);
    const now = Number(await sql(ctx, i, 'SELECT extract(epoch FROM pg_conf_load_time());\n'));
    if (now > t0) return { status: 'done' };
  }
  return { status: 'done', detail: 'reload signalled; the server did not confirm it within 10 s' };
};

/** What pg_ctl needs before a start: its log file and the socket directory, owned by osUser. */
async function prepareStart(host: Host, i: Instance): Promise<void> {
  if (i.control !== 'pg_ctl') return;
  const { uid, gid } = await osIds(host, i.osUser);
  if (!(await host.exists(i.logFile))) await host.writeFile(i.logFile, '', { mode: 0o600, uid, gid });
  if (!(await host.exists(i.socketDir))) await host.ensureDir(i.socketDir, { mode: 0o755, uid, gid });
}

async function startFailure(ctx: StepContext, i: Instance, what: string, stderr: string): Promise<never> {
  const tail = await logTail(liveHost(ctx.host), i);
  if (/Address already in use|could not bind/.test(tail + stderr)) throw new StepError(`PostgreSQL in ${i.dataDir} could not ${what}: port ${i.port} is in use by another process`, tail);
  throw new StepError(`PostgreSQL in ${i.dataDir} did not ${what}; last lines of ${i.logFile}:\n${tail}`, stderr);
}

async function control(ctx: StepContext, i: Instance, action: 'start' | 'stop' | 'restart'): Promise<void> {
  const host = liveHost(ctx.host);
  if (action !== 'stop') await prepareStart(host, i);
  const argv = i.control === 'systemd'
    ? ['systemctl', action, '--', i.service ?? '']
    : asOsUser(i, [`${i.bin}/pg_ctl`, '-D', i.dataDir, ...(action === 'stop' ? [] : ['-l', i.logFile]), '-m', 'fast', '-w', '-t', String(Math.max(10, Math.floor(ctx.timeoutMs / 1000) - 5)), action]);
  const r = await host.exec(argv, { timeoutMs: ctx.timeoutMs, env: { LC_ALL: 'C' }, describe: `${action} PostgreSQL in ${i.dataDir}` });
  if (!r.ok) await startFailure(ctx, i, action, describeFailure(r));
}

const restart: StepRunner = async (step, ctx) => {
  const i = inst(step);
  if (await running(ctx, i)) {
    const pending = await sql(ctx, i, 'SELECT string_agg(name, \', \' ORDER BY name) FROM pg_settings WHERE pending_restart;\n');
    if (!pending) return { status: 'already', detail: 'no setting is pending a restart' };
    await control(ctx, i, 'restart');
    return { status: 'done', detail: `restarted for ${pending}` };
  }
  await control(ctx, i, 'start');
  return { status: 'done', detail: 'it was not running: started' };
};

const start: StepRunner = async (step, ctx) => {
  const i = inst(step);
  if (await running(ctx, i)) return { status: 'already' };
  await control(ctx, i, 'start');
  return { status: 'done' };
};

const role: StepRunner = async (step, ctx) => {
  const i = inst(step);
  const a = step.args as { name: string; login?: boolean; replication?: boolean; passwordRef: string | null };
  const found = await sql(ctx, i, `SELECT json_build_object('login', rolcanlogin, 'replication', rolreplication, 'verifier', rolpassword) FROM pg_authid WHERE rolname = ${sqlLiteral(a.name)};\n`);
  const current = found ? (JSON.parse(found) as { login: boolean; replication: boolean; verifier: string | null }) : null;
  const password = a.passwordRef ? secret(ctx, a.passwordRef) : undefined;
  const attrs: string[] = [];
  if (a.login !== undefined && current?.login !== a.login) attrs.push(a.login ? 'LOGIN' : 'NOLOGIN');
  if (a.replication !== undefined && current?.replication !== a.replication) attrs.push(a.replication ? 'REPLICATION' : 'NOREPLICATION');
  // The server gets a verifier made here: the password itself never reaches it or its logs.
  if (password !== undefined && !verifyPassword(password, current?.verifier)) attrs.push(`PASSWORD ${sqlLiteral(makeVerifier(password))}`);
  if (current && !attrs.length) return { status: 'already' };
  await sql(ctx, i, `${current ? 'ALTER' : 'CREATE'} ROLE ${sqlIdent(a.name)}${attrs.length ? ` WITH ${attrs.join(' ')}` : ''};\n`);
  return { status: 'done', ...(attrs.some((x) => x.startsWith('PASSWORD')) ? { detail: 'password set (not shown)' } : {}) };
};

/** Written, then checked by the server's own parser before any reload: a bad file is put back. */
const hba: StepRunner = async (step, ctx) => {
  const i = inst(step);
  const a = step.args as { path: string; content: string; before: string };
  const host = liveHost(ctx.host);
  const current = await host.read(a.path);
  const sha = current === null ? null : sha256(current);
  if (sha === sha256(a.content)) return { status: 'already' };
  if (sha !== a.before) throw new StepError(`${a.path} changed since it was observed; plan again`);
  const warning = await host.writeFile(a.path, a.content);
  const errors = await sql(ctx, i, "SELECT string_agg('line ' || line_number || ': ' || error, E'\\n' ORDER BY line_number) FROM pg_hba_file_rules WHERE error IS NOT NULL;\n");
  if (errors) {
    await host.writeFile(a.path, current!);
    throw new StepError(`PostgreSQL rejects the new ${a.path}; the previous file was put back:\n${errors}`);
  }
  return { status: 'done', detail: warning };
};

const slot: StepRunner = async (step, ctx) => {
  const i = inst(step);
  const { name } = step.args as { name: string };
  const n = await sql(ctx, i, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = ${sqlLiteral(name)};\n`);
  if (n !== '0') return { status: 'already' };
  await sql(ctx, i, `SELECT pg_create_physical_replication_slot(${sqlLiteral(name)}, true);\n`);
  return { status: 'done' };
};

/**
 * pg_basebackup into a staging directory next to the data directory: the data directory is not
 * touched until a complete copy exists. The password is in the child's PGPASSWORD only.
 */
const basebackup: StepRunner = async (step, ctx) => {
  const i = inst(step);
  const a = step.args as { target: StandbyTarget; passwordRef: string; staging: string };
  const host = liveHost(ctx.host);
  const password = secret(ctx, a.passwordRef);
  const { uid, gid } = await osIds(host, i.osUser);
  if (await host.exists(a.staging)) await mustExec(host, ['rm', '-rf', '--one-file-system', '--', a.staging], 'remove a staging copy left by an earlier run');
  await host.ensureDir(a.staging, { mode: 0o700, uid, gid });
  const conninfo = renderConninfo({ host: a.target.host, port: String(a.target.port), user: a.target.user, application_name: a.target.applicationName });
  const argv = asOsUser(i, [`${i.bin}/pg_basebackup`, '-D', a.staging, '-X', 'stream', '-R', '-c', 'fast', '-w', '-d', conninfo, ...(a.target.slot ? ['-S', a.target.slot] : [])]);
  const r = await host.exec(argv, { timeoutMs: ctx.timeoutMs, env: { PGPASSWORD: password, LC_ALL: 'C', PGCONNECT_TIMEOUT: '10' }, describe: `base backup from ${a.target.host}:${a.target.port}` });
  if (!r.ok) {
    await mustExec(host, ['rm', '-rf', '--one-file-system', '--', a.staging], 'remove the incomplete copy');
    const why = r.timedOut ? describeFailure(r) : classifyConnError(r.stderr, a.target).message;
    throw new StepError(`pg_basebackup failed: ${why}; ${i.dataDir} was not touched`, r.stderr);
  }
  return { status: 'done' };
};

async function mustExec(host: Host, argv: string[], what: string): Promise<void> {
  const r = await host.exec(argv, { timeoutMs: 120_000 });
  if (!r.ok) throw new StepError(`could not ${what}: ${describeFailure(r)}`);
}

/** The new copy takes the data directory's place; an old directory is moved aside, never deleted. */
const install: StepRunner = async (step, ctx) => {
  const i = inst(step);
  const a = step.args as { staging: string; replace: boolean };
  const host = liveHost(ctx.host);
  if (!(await host.exists(a.staging))) throw new StepError(`no new copy at ${a.staging}`);
  const entries = await host.readdir(i.dataDir);
  let detail: string | undefined;
  if (entries?.length) {
    if (!a.replace) throw new StepError(`${i.dataDir} is no longer empty; plan again`);
    if (await running(ctx, i)) await control(ctx, i, 'stop');
    const aside = `${i.dataDir}.reconcile-old-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await mustExec(host, ['mv', '-T', '--', i.dataDir, aside], `move ${i.dataDir} aside`);
    detail = `the old data directory is kept at ${aside}`;
  } else if (entries) {
    await host.removeDirIfEmpty(i.dataDir);
  }
  await mustExec(host, ['mv', '-T', '--', a.staging, i.dataDir], `move the new copy to ${i.dataDir}`);
  return { status: 'done', detail };
};

function conninfoFor(target: StandbyTarget, password: string): string {
  return renderConninfo({ host: target.host, port: String(target.port), user: target.user, password, application_name: target.applicationName });
}

/**
 * A stopped standby's own settings: postgresql.auto.conf is read after postgresql.conf, so this
 * overrides what the base backup copied from the primary. The file holds the replication password,
 * so its previous bytes are not copied into the journal.
 */
const configure: StepRunner = async (step, ctx) => {
  const i = inst(step);
  const a = step.args as { target: StandbyTarget; passwordRef: string; set: Record<string, string> };
  if (await running(ctx, i)) throw new StepError(`${i.dataDir} is running; plan again`);
  const host = liveHost(ctx.host).withoutBackup();
  const { uid, gid } = await osIds(host, i.osUser);
  const file = `${i.dataDir}/postgresql.auto.conf`;
  const before = (await host.readText(file)) ?? '# Do not edit this file manually!\n# It will be overwritten by the ALTER SYSTEM command.\n';
  const after = mergeAutoConf(before, { ...a.set, primary_conninfo: conninfoFor(a.target, secret(ctx, a.passwordRef)) });
  const signal = `${i.dataDir}/standby.signal`;
  const hasSignal = await host.exists(signal);
  if (after === before && hasSignal) return { status: 'already' };
  if (after !== before) await host.writeFile(file, after, { mode: 0o600, uid, gid });
  if (!hasSignal) await host.writeFile(signal, '', { mode: 0o600, uid, gid });
  return { status: 'done' };
};

/** A running standby's connection to its primary (reloadable since PostgreSQL 13). */
const conninfo: StepRunner = async (step, ctx) => {
  const i = inst(step);
  const a = step.args as { target: StandbyTarget; passwordRef: string; restoreCommand: string | null };
  const password = secret(ctx, a.passwordRef);
  const now = await sql(ctx, i, "SELECT json_object_agg(name, setting) FROM pg_settings WHERE name IN ('primary_conninfo', 'primary_slot_name', 'restore_command');\n");
  const cur = JSON.parse(now || '{}') as Record<string, string>;
  const want = conninfoFor(a.target, password);
  let same = false;
  try {
    const p = parseConninfo(cur.primary_conninfo ?? '');
    const w = parseConninfo(want);
    same = Object.keys(w).every((k) => p[k] === w[k]);
  } catch {
    same = false;
  }
  const statements: string[] = [];
  if (!same) statements.push(`ALTER SYSTEM SET primary_conninfo = ${sqlLiteral(want)};`);
  if ((cur.primary_slot_name ?? '') !== (a.target.slot ?? '')) statements.push(`ALTER SYSTEM SET primary_slot_name = ${sqlLiteral(a.target.slot ?? '')};`);
  if (a.restoreCommand !== null && cur.restore_command !== a.restoreCommand) statements.push(`ALTER SYSTEM SET restore_command = ${sqlLiteral(a.restoreCommand)};`);
  if (!statements.length) return { status: 'already' };
  await sql(ctx, i, `${statements.join('\n')}\n`);
  return { status: 'done' };
};

/**
 * The proof: the standby's wal receiver streams, and the primary's pg_stat_replication shows it
 * (asked as the replication user; without pg_read_all_stats the primary shows the row but not
 * its state, and a primary whose hba allows replication connections only cannot be asked: then
 * the standby's own view is the proof, and the detail says so).
 */
const verifyStreaming: StepRunner = async (step, ctx): Promise<StepOutcome> => {
  const i = inst(step);
  const a = step.args as { target: StandbyTarget; passwordRef: string };
  const host = liveHost(ctx.host);
  const password = secret(ctx, a.passwordRef);
  const deadline = Date.now() + Math.min(ctx.timeoutMs, 90_000);
  let receiver = 'not queried';
  let fromPrimary = 'not queried';
  for (;;) {
    const local = await psqlLocal(host, i, 'SELECT status FROM pg_stat_wal_receiver;\n', 10_000);
    receiver = local.ok ? local.stdout.trim() || 'no wal receiver' : `server not answering (${firstError(local.stderr)})`;
    if (receiver === 'streaming') {
      const q = `SELECT coalesce(state, '(state hidden)') FROM pg_stat_replication WHERE application_name = ${sqlLiteral(a.target.applicationName)};`;
      const r = await psqlRemote(host, i, a.target, password, q);
      if (!r.ok) {
        const c = classifyConnError(r.stderr, a.target);
        return { status: 'done', detail: `streaming (the standby's wal receiver; the primary cannot be asked as ${a.target.user}: ${c.message})` };
      }
      fromPrimary = r.stdout.trim().split('\n')[0] || 'no row';
      if (fromPrimary === 'streaming') return { status: 'done', detail: `streaming (pg_stat_replication on ${a.target.host}:${a.target.port})` };
      if (fromPrimary === '(state hidden)') return { status: 'done', detail: `streaming (the primary lists ${a.target.applicationName}; its state needs pg_read_all_stats to be read)` };
    }
    if (Date.now() > deadline) break;
    await sleep(500);
  }
  const tail = await logTail(host, i);
  throw new StepError(
    `the standby in ${i.dataDir} is not streaming from ${a.target.host}:${a.target.port} within ${Math.round(Math.min(ctx.timeoutMs, 90_000) / 1000)} s (wal receiver: ${receiver}; primary's pg_stat_replication: ${fromPrimary}); last lines of ${i.logFile}:\n${tail}`,
  );
};

export const postgresOps: Record<string, StepRunner> = {
  'postgres.alterSystem': alterSystem,
  'postgres.reload': reload,
  'postgres.restart': restart,
  'postgres.start': start,
  'postgres.role': role,
  'postgres.hba': hba,
  'postgres.slot': slot,
  'postgres.basebackup': basebackup,
  'postgres.install': install,
  'postgres.configure': configure,
  'postgres.conninfo': conninfo,
  'postgres.verifyStreaming': verifyStreaming,
};
