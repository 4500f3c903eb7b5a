import { connect } from 'node:net';
import type { Host } from '../../host/host.js';
import { parseIdFile } from '../../host/accounts.js';
import { refKey } from '../../spec/secrets.js';
import type { PostgresSpec } from '../../spec/types.js';
import type { ObserveContext } from '../types.js';
import { asOsUser, classifyConnError, psqlLocal, psqlRemote, resolveInstance, DEFAULT_BIN_ROOT, type Instance } from './instance.js';
import { parseConninfo } from './conninfo.js';
import type { PgObserved, PgServer } from './types.js';

/** Settings always read, whatever the spec sets: what the standby and version logic need. */
const BASE_SETTINGS = ['port', 'wal_segment_size', 'primary_conninfo', 'primary_slot_name', 'restore_command', 'unix_socket_directories', 'wal_level', 'max_wal_senders'];

/**
 * The instance's files are live state: read and written as they are, never under --root (see
 * instance.ts). A view of the same Host with un-rooted paths, so facts recording and replay and
 * the journal's backups still go through it.
 */
export function liveHost(host: Host): Host {
  return host.unrooted();
}


/**
 * One round with the server: settings, roles, slots, recovery state, system identifier, hba rule
 * errors, the wal receiver, as one JSON value from one query.
 *
 * Nothing secret leaves the server in this output (it may be recorded in a facts snapshot): of a
 * role's SCRAM verifier only the salt and iteration count (public: every client gets them in the
 * handshake) and a sha256 of the whole verifier come back; primary_conninfo comes back without
 * its password, which is reduced to an HMAC under the host's digest key (a plain sha256 of a
 * password is reversed by a word list).
 */
export function batchQuery(settingNames: string[], roleNames: string[], digestKey: Buffer | null = null): { sql: string; keyForm: string } {
  // HMAC-SHA256 with the host's digest key, built from sha256() (core PostgreSQL has no hmac()):
  // the key enters as its inner and outer pads; facts key this call by the query with them elided.
  const block = Buffer.alloc(64);
  (digestKey ?? Buffer.alloc(0)).copy(block);
  const pad = (byte: number) => Buffer.from(block.map((b) => b ^ byte)).toString('hex');
  const hmac = (expr: string, ipad: string, opad: string) => `encode(sha256(decode('${opad}', 'hex') || sha256(decode('${ipad}', 'hex') || ${expr})), 'hex')`;
  const query = (ipad: string, opad: string) => batchSql(settingNames, roleNames, hmac("convert_to(password, 'UTF8')", ipad, opad));
  return { sql: query(pad(0x36), pad(0x5c)), keyForm: query('IPAD', 'OPAD') };
}

function batchSql(settingNames: string[], roleNames: string[], passwordDigest: string): string {
  const arr = (xs: string[]) => `ARRAY[${xs.map((x) => `'${x.replace(/'/g, "''")}'`).join(',')}]::text[]`;
  // libpq's password=value or password='quoted \' value'; the one group is the value as written.
  const pw = String.raw`(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S*)`;
  return `WITH ci AS (SELECT setting AS v, substring(setting from $re$${pw}$re$) AS raw FROM pg_settings WHERE name = 'primary_conninfo'),
pw AS (SELECT v, raw, regexp_replace(CASE WHEN raw LIKE '''%' THEN substr(raw, 2, length(raw) - 2) ELSE raw END, $re$\\\\(.)$re$, '\\1', 'g') AS password FROM ci)
SELECT json_build_object(
  'version', current_setting('server_version_num')::int,
  'inRecovery', pg_is_in_recovery(),
  'systemIdentifier', (SELECT system_identifier::text FROM pg_control_system()),
  'dataDirectory', current_setting('data_directory'),
  'configFile', current_setting('config_file'),
  'hbaFile', current_setting('hba_file'),
  'settings', (SELECT coalesce(json_object_agg(name, json_build_object('setting', setting, 'unit', unit, 'vartype', vartype, 'context', context, 'pending', pending_restart, 'display', current_setting(name, true))), '{}') FROM pg_settings WHERE name = ANY(${arr(settingNames)}) AND name <> 'primary_conninfo'),
  'roles', (SELECT coalesce(json_object_agg(rolname, json_build_object('login', rolcanlogin, 'replication', rolreplication, 'superuser', rolsuper,
      'password', CASE WHEN rolpassword IS NULL THEN NULL ELSE json_build_object(
        'iterations', (substring(rolpassword from '^SCRAM-SHA-256[$]([0-9]+):'))::int,
        'salt', substring(rolpassword from '^SCRAM-SHA-256[$][0-9]+:([^$]+)[$]'),
        'sha256', encode(sha256(convert_to(rolpassword, 'UTF8')), 'hex')) END)), '{}')
    FROM pg_authid WHERE rolname = ANY(${arr(roleNames)})),
  'slots', (SELECT coalesce(json_agg(json_build_object('name', slot_name, 'type', slot_type, 'active', active) ORDER BY slot_name), '[]') FROM pg_replication_slots),
  'hbaErrors', (SELECT coalesce(json_agg(json_build_object('line', line_number, 'error', error) ORDER BY line_number), '[]') FROM pg_hba_file_rules WHERE error IS NOT NULL),
  'walReceiver', (SELECT json_build_object('status', status, 'senderHost', sender_host, 'senderPort', sender_port) FROM pg_stat_wal_receiver LIMIT 1),
  'conninfo', (SELECT CASE WHEN v = '' THEN NULL ELSE json_build_object(
      'text', regexp_replace(v, $re$${pw}$re$, ' ', 'g'),
      'passwordHmac', CASE WHEN raw IS NULL THEN NULL ELSE ${passwordDigest} END) END FROM pw)
);\n`;
}

interface BatchJson extends Omit<PgServer, 'conninfo'> {
  conninfo: { text: string; passwordHmac: string | null } | null;
}

/** The batch query's JSON, with primary_conninfo parsed (it arrives without its password). */
export function parseBatch(json: string): PgServer {
  const raw = JSON.parse(json) as BatchJson;
  let conninfo: PgServer['conninfo'] = null;
  if (raw.conninfo) {
    let params: Record<string, string>;
    try {
      params = parseConninfo(raw.conninfo.text);
    } catch {
      params = { unparseable: 'true' };
    }
    delete params.password;
    conninfo = { params, passwordHmac: raw.conninfo.passwordHmac };
  }
  return { ...raw, conninfo };
}

export { sha256 } from '../../hash.js';

export function parseVersionOutput(text: string): number | null {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return null;
  const major = Number(m[1]);
  return major >= 10 ? major * 10000 + Number(m[2] ?? 0) : null;
}

export function parsePortFromConf(text: string | null): number | undefined {
  const m = text ? /^\s*port\s*=?\s*'?(\d+)'?/m.exec(text) : null;
  return m ? Number(m[1]) : undefined;
}

export async function observePostgres(ctx: ObserveContext): Promise<PgObserved | null> {
  const pg = ctx.spec.postgres;
  if (!pg) return null;
  const live = liveHost(ctx.host);
  const installed = ((await live.readdir(DEFAULT_BIN_ROOT)) ?? []).map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const debianPort = 'cluster' in pg.instance ? parsePortFromConf(await live.readText(`/etc/postgresql/${pg.instance.version}/${pg.instance.cluster}/postgresql.conf`)) : undefined;
  const inst = resolveInstance(pg.instance, installed, debianPort);
  const names = settingNames(pg);
  const roles = (pg.users ?? []).map((u) => u.name);

  const [passwd, stat, entries, standbySignal, versionOut, batch, primary] = await Promise.all([
    live.readLive('/etc/passwd'),
    live.lstat(inst.dataDir),
    live.readdir(inst.dataDir),
    live.exists(`${inst.dataDir}/standby.signal`),
    live.exec([`${inst.bin}/postgres`, '-V'], { timeoutMs: 10_000 }),
    // The digest key is the root's (ctx.host), not the live view's: it lives with reconcile's state.
    (pg.role === 'standby' ? ctx.host.digestKey() : Promise.resolve(null)).then((key) => {
      const q = batchQuery(names, roles, key);
      return psqlLocal(live, inst, q.sql, undefined, q.keyForm);
    }),
    pg.role === 'standby' ? observePrimary(live, inst, pg, ctx.secrets) : Promise.resolve(undefined),
  ]);
  const users = parseIdFile(passwd ?? '');
  const osUid = users.get(inst.osUser) ?? null;
  const owner = stat ? ([...users].find(([, id]) => id === stat.uid)?.[0] ?? null) : null;
  const state: PgObserved['dataDir']['state'] = stat === null ? 'missing' : !entries?.length ? 'empty' : entries.includes('PG_VERSION') ? 'cluster' : 'other';

  const observed: PgObserved = {
    instance: inst,
    osUid,
    dataDir: { state, uid: stat?.uid ?? null, owner, standbySignal },
    binVersion: versionOut.ok ? parseVersionOutput(versionOut.stdout) : null,
    server: null,
    hba: null,
    ...(primary ? { primary } : {}),
  };

  if (batch.ok) {
    const server = parseBatch(batch.stdout.trim());
    if (sameDir(server.dataDirectory, inst.dataDir)) {
      observed.server = server;
      const text = await live.readText(server.hbaFile);
      observed.hba = text === null ? null : { path: server.hbaFile, text };
    } else {
      observed.serverError = `another cluster (data directory ${server.dataDirectory}) answers on port ${inst.port}`;
      observed.portInUse = observed.serverError;
    }
  } else {
    observed.serverError = batch.stderr.trim().split('\n')[0] || 'the server does not answer';
    const holder = await portHolder(inst.port);
    if (holder) observed.portInUse = holder;
  }
  if (!observed.server && state === 'cluster') {
    const control = await live.exec(asOsUser(inst, [`${inst.bin}/pg_controldata`, '-D', inst.dataDir]), { timeoutMs: 15_000, env: { LC_ALL: 'C' } });
    const m = control.ok ? /Database system identifier:\s*(\d+)/.exec(control.stdout) : null;
    observed.dataDir.systemIdentifier = m ? m[1]! : null;
  }
  return observed;
}

function sameDir(a: string, b: string): boolean {
  const norm = (p: string) => p.replace(/\/+$/, '');
  return norm(a) === norm(b);
}

/** Spec settings in the server's names for the version that will run, plus what the kind always reads. */
function settingNames(pg: PostgresSpec): string[] {
  const spec = Object.keys(pg.settings ?? {});
  const keep = spec.some((n) => n === 'wal_keep_size' || n === 'wal_keep_segments') ? ['wal_keep_size', 'wal_keep_segments'] : [];
  return [...new Set([...BASE_SETTINGS, ...spec, ...keep])].sort();
}

/** Who else listens on the port when our server does not answer there. */
function portHolder(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const done = (v: string | undefined) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(1_000, () => done(undefined));
    sock.once('connect', () => done(`another process listens on 127.0.0.1:${port}`));
    sock.once('error', () => done(undefined));
  });
}

/** IDENTIFY_SYSTEM over a replication connection: proves the password and hba, and names the primary's cluster. */
async function observePrimary(live: Host, inst: Instance, pg: PostgresSpec, secrets: ReadonlyMap<string, string> | undefined): Promise<PgObserved['primary']> {
  if (!pg.primary) return undefined;
  const to = { host: pg.primary.host, port: pg.primary.port ?? 5432, user: pg.primary.user };
  const password = secrets?.get(refKey(pg.primary.password));
  if (password === undefined) return { kind: 'other', error: `the primary's password (${refKey(pg.primary.password)}) is not resolved` };
  const r = await psqlRemote(live, inst, to, password, 'IDENTIFY_SYSTEM', { replication: true });
  if (!r.ok) {
    const c = classifyConnError(r.stderr, to);
    return { kind: c.kind, error: c.message };
  }
  const sysid = r.stdout.trim().split('|')[0] ?? '';
  return /^\d+$/.test(sysid) ? { systemIdentifier: sysid } : { kind: 'other', error: `the primary ${to.host}:${to.port} answered IDENTIFY_SYSTEM with "${r.stdout.trim()}"` };
}

