import type { Change, Risk, Step } from '../../plan/types.js';
import { fileDiff } from '../../plan/filediff.js';
import { SpecValueError, UserError } from '../../errors.js';
import { refKey } from '../../spec/secrets.js';
import type { PostgresSpec } from '../../spec/types.js';
import type { DiffInput, DiffOutput } from '../types.js';
import { applyRules, parseHba, renderHba, ruleKey } from './hba.js';
import { A, observedEntry, risk, toRule } from './risk.js';
import type { Instance } from './instance.js';
import { needsRestart, normalizeValue, sameValue, settingsForVersion } from './settings.js';
import { matchesStored } from './scram.js';
import { sha256 } from './observe.js';
import type { PgObserved, PgServer } from './types.js';

const KIND = 'postgres';
export { A };

/** Step ids per instance; `*` ids are prefixes the planner expands. */
export function ids(inst: Instance) {
  const d = inst.dataDir;
  return {
    alter: (n: string) => `pg:alter:${d}:${n}`,
    alterAll: `pg:alter:${d}:*`,
    hba: `pg:hba:${d}`,
    role: (n: string) => `pg:role:${d}:${n}`,
    conninfo: `pg:conninfo:${d}`,
    reload: `pg:reload:${d}`,
    restart: `pg:restart:${d}`,
    start: `pg:start:${d}`,
    slot: (n: string) => `pg:slot:${d}:${n}`,
    basebackup: `pg:basebackup:${d}`,
    install: `pg:install:${d}`,
    configure: `pg:configure:${d}`,
    verify: `pg:verify:${d}`,
  };
}

export interface StandbyTarget {
  host: string;
  port: number;
  user: string;
  /** Also the application_name the standby connects with: how the primary's pg_stat_replication names it. */
  applicationName: string;
  slot: string | null;
}

/**
 * The cases, by role. Nothing here ever drops a role, a slot, data or a setting: addresses that
 * leave the spec are only reported (DESIGN §5: PostgreSQL state is never removed implicitly).
 *
 * primary:
 *   no cluster in dataDir              -> error (reconcile does not initdb a primary)
 *   cluster, server stopped            -> start it (risk restart); the rest is planned once it runs
 *   server in recovery                 -> error (reconcile does not promote)
 *   setting differs, context sighup…   -> ALTER SYSTEM + reload (risk reload)
 *   setting differs, postmaster/pending-> ALTER SYSTEM + reload + restart (risk restart)
 *   user missing / attrs or password   -> CREATE / ALTER ROLE (risk none); password compared by SCRAM
 *   hba rule missing / different       -> rewrite that line or insert it, keep the rest; reload
 *   slot missing                       -> create the physical slot
 * standby: see diffStandby.
 */
export function diffPostgres(input: DiffInput<PgObserved | null>): DiffOutput {
  const pg = input.spec.postgres;
  const o = input.observed;
  const leaving = input.owned.filter((a) => !managedAddresses(pg).includes(a));
  const warnings = leaving.map((a) => `${a} left the spec: reconcile never removes PostgreSQL roles, slots, settings or data by itself; nothing is planned for it`);
  if (!pg || !o) return { changes: [], observedByAddress: {}, managed: [], warnings };

  const inst = o.instance;
  if (o.osUid === null) throw new SpecValueError(['postgres', 'instance'], `postgres: the OS user ${inst.osUser} does not exist on this host`);
  if (o.binVersion === null) throw new SpecValueError(['postgres', 'instance'], `postgres: no PostgreSQL server binaries at ${inst.bin} (postgres -V failed)`);
  if (o.dataDir.uid !== null && o.dataDir.uid !== o.osUid) {
    throw new UserError(`postgres: the data directory ${inst.dataDir} is owned by ${o.dataDir.owner ?? `uid ${o.dataDir.uid}`}, not ${inst.osUser}; PostgreSQL will not run on it (chown -R ${inst.osUser}: ${inst.dataDir})`);
  }
  const out = pg.role === 'primary' ? diffPrimary(pg, o, input.secrets) : diffStandby(pg, o, input.secrets, input.spec.host, input.digest);
  out.warnings = [...warnings, ...(out.warnings ?? [])];
  if (o.server) out.warnings.push(...o.server.hbaErrors.map((e) => `postgres: ${o.server!.hbaFile}:${e.line}: ${e.error}`));
  out.changes.sort((a, b) => a.address.localeCompare(b.address));
  // The cluster (primary and standbys alike) by its system identifier: a restart of the primary or
  // a standby rebuild excludes every other change to the cluster; ordinary changes share it.
  const cluster = pg.role === 'primary' ? o.server?.systemIdentifier : o.primary && 'systemIdentifier' in o.primary ? o.primary.systemIdentifier : undefined;
  if (cluster && out.changes.length) {
    const exclusive = out.changes.some((c) => c.risk === 'restart' || c.risk === 'destructive' || (pg.role === 'standby' && c.action === 'create'));
    out.locks = [{ name: `pg:${cluster}`, mode: exclusive ? 'write' : 'read' }];
  }
  return out;
}

function managedAddresses(pg: PostgresSpec | undefined): string[] {
  if (!pg) return [];
  const primary = pg.role === 'primary';
  return [
    primary ? A.server : A.standby,
    ...Object.keys(pg.settings ?? {}).map(A.setting),
    ...(primary ? (pg.users ?? []).map((u) => A.user(u.name)) : []),
    ...(pg.hba ?? []).map((h) => A.hba(toRule(h))),
    ...(primary ? (pg.slots ?? []).map(A.slot) : []),
  ];
}

/** A change's risk: the kind's risk function's (src/resources/postgres/risk.ts), as review's. */
function judge(o: PgObserved, address: string, pg: PostgresSpec): Risk {
  const { entry, context } = observedEntry(o, address, pg);
  return risk(entry, pg, context).risk;
}

function notRunning(pg: PostgresSpec, o: PgObserved, what: string): Change {
  const inst = o.instance;
  if (o.portInUse) throw new UserError(`postgres: cannot start ${inst.dataDir} on port ${inst.port}: ${o.portInUse}`);
  const id = ids(inst);
  const address = what === 'primary' ? A.server : A.standby;
  return {
    address,
    kind: KIND,
    action: 'update',
    risk: judge(o, address, pg),
    summary: `start the ${what} server in ${inst.dataDir} on port ${inst.port} (not running: ${o.serverError ?? 'no answer'}); ${what === 'primary' ? 'settings, users, hba and slots are' : 'its settings and hba are'} planned once it runs`,
    diff: '',
    steps: [{ id: id.start, op: 'postgres.start', title: `start PostgreSQL in ${inst.dataDir}`, args: { instance: inst } }],
  };
}

function diffPrimary(pg: PostgresSpec, o: PgObserved, secrets: ReadonlyMap<string, string>): DiffOutput {
  const inst = o.instance;
  const managed = managedAddresses(pg);
  if (o.dataDir.state !== 'cluster') throw new UserError(`postgres: no PostgreSQL cluster in ${inst.dataDir} (${o.dataDir.state}); reconcile does not create a primary with initdb`);
  const observedByAddress: Record<string, unknown> = { [A.server]: { running: !!o.server, dataDir: o.dataDir, serverError: o.serverError ?? null } };
  if (!o.server) return { changes: [notRunning(pg, o, 'primary')], observedByAddress, managed };
  const server = o.server;
  if (server.inRecovery) throw new SpecValueError(['postgres', 'role'], `postgres: ${inst.dataDir} is a standby (in recovery) but the spec says role primary; reconcile does not promote a standby`);
  const warnings: string[] = [];
  // Recorded as created so that leaving the spec names them in a warning; they are never removed.
  const creates: Record<string, string[]> = {};
  const changes = [...settingChanges(pg, o, server, observedByAddress), ...hbaChanges(pg, o, observedByAddress)];
  const id = ids(inst);

  for (const u of pg.users ?? []) {
    const address = A.user(u.name);
    const role = server.roles[u.name];
    observedByAddress[address] = role ?? null;
    const password = u.password ? secrets.get(refKey(u.password)) : undefined;
    if (u.password && password === undefined) throw new UserError(`${address}: the password reference ${refKey(u.password)} is not resolved`);
    const login = u.login ?? true;
    const what: string[] = [];
    if (role) {
      if (u.login !== undefined && role.login !== u.login) what.push(u.login ? 'LOGIN' : 'NOLOGIN');
      if (u.replication !== undefined && role.replication !== u.replication) what.push(u.replication ? 'REPLICATION' : 'NOREPLICATION');
      // Recomputed from the stored verifier's salt and iterations: an unchanged password is no drift.
      if (password !== undefined && !matchesStored(password, role.password)) what.push('password (not shown)');
      if (!what.length) continue;
    }
    if (!role) creates[address] = ['role'];
    const args = { instance: inst, name: u.name, login: role ? u.login : login, replication: u.replication, passwordRef: u.password ? refKey(u.password) : null };
    changes.push({
      address,
      kind: KIND,
      action: role ? 'update' : 'create',
      risk: judge(o, address, pg),
      summary: role ? `change ${what.join(', ')} of role ${u.name}` : `create role ${u.name} (${[login ? 'LOGIN' : 'NOLOGIN', u.replication ? 'REPLICATION' : '', password !== undefined ? 'password from ' + refKey(u.password!) : ''].filter(Boolean).join(', ')})`,
      diff: '',
      steps: [{ id: id.role(u.name), op: 'postgres.role', title: `${role ? 'alter' : 'create'} role ${u.name}`, args }],
    });
  }

  for (const name of pg.slots ?? []) {
    const address = A.slot(name);
    const slot = server.slots.find((s) => s.name === name);
    observedByAddress[address] = slot ?? null;
    if (slot && slot.type !== 'physical') throw new UserError(`${address}: a ${slot.type} slot named ${name} exists; reconcile manages physical slots only`);
    if (slot) continue;
    creates[address] = ['slot'];
    changes.push({
      address,
      kind: KIND,
      action: 'create',
      risk: judge(o, address, pg),
      summary: `create the physical replication slot ${name} (it keeps WAL until a standby uses it)`,
      diff: '',
      // After a restart that may be raising wal_level: slots need wal_level replica.
      steps: [{ id: id.slot(name), op: 'postgres.slot', title: `create replication slot ${name}`, after: [id.reload, id.restart], args: { instance: inst, name } }],
    });
  }
  return { changes, observedByAddress, managed, warnings, creates };
}

function reloadStep(inst: Instance): Step {
  const id = ids(inst);
  return { id: id.reload, op: 'postgres.reload', title: `reload the configuration of ${inst.dataDir}`, after: [id.alterAll, id.hba, id.conninfo, `pg:role:${inst.dataDir}:*`], args: { instance: inst } };
}
function restartStep(inst: Instance): Step {
  const id = ids(inst);
  return { id: id.restart, op: 'postgres.restart', title: `restart PostgreSQL in ${inst.dataDir} (settings pending a restart)`, after: [id.reload], args: { instance: inst } };
}

function settingChanges(pg: PostgresSpec, o: PgObserved, server: PgServer, observedByAddress: Record<string, unknown>, target?: StandbyTarget): Change[] {
  const inst = o.instance;
  const id = ids(inst);
  const segment = Number(server.settings.wal_segment_size?.setting ?? 16 * 1024 ** 2);
  const wanted = settingsForVersion(pg.settings ?? {}, server.version, segment);
  const changes: Change[] = [];
  const standby = pg.role === 'standby';
  for (const [name, value] of Object.entries(wanted)) {
    const s = server.settings[name];
    // wal_keep_size and wal_keep_segments are one setting across versions: the spec names one of them.
    const key = name in (pg.settings ?? {}) ? name : name === 'wal_keep_size' ? 'wal_keep_segments' : 'wal_keep_size';
    const address = A.setting(key);
    observedByAddress[address] = s ?? null;
    if (!s && !name.includes('.')) throw new SpecValueError(['postgres', 'settings', key], `${address}: PostgreSQL ${Math.floor(server.version / 10000)} has no setting "${name}"`);
    if (s && normalizeValue(value, s) === undefined) throw new SpecValueError(['postgres', 'settings', key], `${address}: "${value}" is not a valid value for ${name} (${s.vartype}${s.unit ? `, unit ${s.unit}` : ''})`);
    if (s && sameValue(value, s)) continue;
    const restart = needsRestart(s);
    const steps: Step[] = [{ id: id.alter(name), op: 'postgres.alterSystem', title: `ALTER SYSTEM SET ${name} = '${value}'`, args: { instance: inst, name, value: String(value) } }, reloadStep(inst)];
    if (restart) steps.push(restartStep(inst));
    if (standby && target) steps.push(verifyStep(inst, target, refKey(pg.primary!.password)));
    changes.push({
      address,
      kind: KIND,
      action: 'update',
      risk: judge(o, address, pg),
      summary: `${name}: ${s?.display ?? s?.setting ?? '(unset)'} -> ${value} (${restart ? 'needs a server restart' : 'applied by a reload'})`,
      diff: '',
      steps,
    });
  }
  return changes;
}

function hbaChanges(pg: PostgresSpec, o: PgObserved, observedByAddress: Record<string, unknown>): Change[] {
  const wanted = (pg.hba ?? []).map(toRule);
  if (!wanted.length || !o.hba) return [];
  const inst = o.instance;
  const id = ids(inst);
  const { path, text } = o.hba;
  // Continuation lines are PostgreSQL 16's; before it a trailing backslash is part of a token.
  const lines = parseHba(text, { continuation: (o.server?.version ?? 160000) >= 160000 });
  const final = renderHba(applyRules(lines, wanted));
  const changes: Change[] = [];
  const step: Step = { id: id.hba, op: 'postgres.hba', title: `write ${path} (checked with pg_hba_file_rules before the reload)`, args: { instance: inst, path, content: final, before: sha256(text) } };
  for (const rule of wanted) {
    const address = A.hba(rule);
    const current = lines.filter((l) => l.rule && ruleKey(l.rule) === ruleKey(rule));
    observedByAddress[address] = { lines: current.map((l) => l.raw) };
    const own = renderHba(applyRules(lines, [rule]));
    if (own === text) continue;
    observedByAddress[address] = { lines: current.map((l) => l.raw), file: sha256(text) };
    changes.push({
      address,
      kind: KIND,
      action: current.length ? 'update' : 'create',
      risk: judge(o, address, pg),
      summary: `${current.length ? 'change' : 'add'} the pg_hba.conf rule ${ruleKey(rule)} ${rule.method}${rule.options ? ` ${rule.options}` : ''}`,
      diff: fileDiff(path, text, own),
      steps: [step, reloadStep(inst)],
    });
  }
  // Rules present and as written, but out of the spec's order: each that moves is a change (a reload).
  const firstLineOf = (key: string) => lines.findIndex((l) => l.rule && ruleKey(l.rule) === key);
  const present = wanted.map((r) => ruleKey(r)).filter((k) => firstLineOf(k) !== -1);
  const asFound = [...present].sort((a, b) => firstLineOf(a) - firstLineOf(b));
  const changed = new Set(changes.map((c) => c.address));
  wanted.forEach((rule) => {
    const key = ruleKey(rule);
    const address = A.hba(rule);
    if (changed.has(address) || !present.includes(key) || asFound.indexOf(key) === present.indexOf(key)) return;
    observedByAddress[address] = { lines: lines.filter((l) => l.rule && ruleKey(l.rule) === key).map((l) => l.raw), order: asFound };
    changes.push({
      address,
      kind: KIND,
      action: 'update',
      risk: judge(o, address, pg),
      summary: `move the pg_hba.conf rule ${key} to its place in the spec's order (first match wins)`,
      diff: fileDiff(path, text, final),
      steps: [step, reloadStep(inst)],
    });
  });
  return changes;
}

function standbyTarget(pg: PostgresSpec, applicationName: string): StandbyTarget {
  const p = pg.primary!;
  return { host: p.host, port: p.port ?? 5432, user: p.user, applicationName, slot: p.slot ?? null };
}

function verifyStep(inst: Instance, target: StandbyTarget, passwordRef: string): Step {
  const id = ids(inst);
  return {
    id: id.verify,
    op: 'postgres.verifyStreaming',
    title: `verify that ${inst.dataDir} streams from ${target.host}:${target.port} (pg_stat_replication on the primary)`,
    after: [id.start, id.restart, id.reload, id.conninfo, id.configure, id.install, id.alterAll],
    args: { instance: inst, target, passwordRef },
  };
}

/**
 * standby (dataDir × the primary seen through a replication connection):
 *   missing or empty                       -> base backup, configure, start, verify (create, risk none:
 *                                             nothing running is touched; the primary takes a fast checkpoint)
 *   files that are not a cluster           -> rebuild (destructive): the old directory is moved aside
 *   a cluster of another system identifier -> rebuild (destructive)
 *   a cluster that is not a standby        -> rebuild (destructive): it has its own timeline
 *   our standby, stopped                   -> configure and start (risk restart)
 *   our standby, running, other conninfo   -> ALTER SYSTEM primary_conninfo/slot/restore_command, reload
 *   our standby, in sync                   -> nothing (a warning when it does not stream)
 * A base backup needs a primary that accepts the password: otherwise the plan fails, touching nothing.
 */
function diffStandby(pg: PostgresSpec, o: PgObserved, secrets: ReadonlyMap<string, string>, hostName: string, digest: DiffInput<unknown>['digest']): DiffOutput {
  const inst = o.instance;
  const id = ids(inst);
  const managed = managedAddresses(pg);
  if (!pg.primary) throw new UserError('postgres: role standby needs primary: {host, port, user, password}');
  const warnings: string[] = [];
  if (pg.users?.length || pg.slots?.length) warnings.push('postgres: users and slots are managed on the primary; they are ignored in a standby spec');
  const passwordRef = refKey(pg.primary.password);
  const password = secrets.get(passwordRef);
  if (password === undefined) throw new UserError(`postgres.primary.password: ${passwordRef} is not resolved`);
  const target = standbyTarget(pg, applicationNameOf(hostName));
  const primary = o.primary;
  const primaryId = primary && 'systemIdentifier' in primary ? primary.systemIdentifier : null;
  const primaryError = primary && 'error' in primary ? primary : null;
  const ourId = o.server?.systemIdentifier ?? o.dataDir.systemIdentifier ?? null;
  const observedByAddress: Record<string, unknown> = {
    [A.standby]: { dataDir: o.dataDir, running: !!o.server, inRecovery: o.server?.inRecovery ?? null, systemIdentifier: ourId, conninfo: o.server?.conninfo ?? null, primary: primary ?? null },
  };

  const isStandby = o.server ? o.server.inRecovery : o.dataDir.standbySignal;
  let rebuild: string | null = null;
  if (o.dataDir.state === 'other') rebuild = `${inst.dataDir} holds files but no PostgreSQL cluster`;
  else if (o.dataDir.state === 'cluster' && primaryId && ourId && ourId !== primaryId) rebuild = `${inst.dataDir} is another cluster (system identifier ${ourId}, the primary's is ${primaryId})`;
  else if (o.dataDir.state === 'cluster' && !isStandby) rebuild = `${inst.dataDir} is not a standby (${o.server ? 'not in recovery' : 'no standby.signal'}): a primary of its own timeline`;

  const copy = o.dataDir.state === 'missing' || o.dataDir.state === 'empty' || rebuild !== null;
  if (copy) {
    if (primaryError) throw new UserError(`postgres: cannot take a base backup: ${primaryError.error}; nothing was changed`);
    if (!primary) throw new UserError('postgres: the primary was not observed');
    if (o.server && rebuild === null) throw new UserError(`postgres: a server answers on port ${inst.port} although ${inst.dataDir} is ${o.dataDir.state}`);
    if (!o.server && o.portInUse) throw new UserError(`postgres: cannot start the standby on port ${inst.port}: ${o.portInUse}`);
    const staging = `${inst.dataDir}.reconcile-new`;
    const settings = settingsForVersion(pg.settings ?? {}, o.binVersion ?? 150000);
    const set: Record<string, string> = Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, String(v)]));
    // The base backup brings the primary's postgresql.conf: the standby's own port, socket and
    // recovery settings go to postgresql.auto.conf, which is read last.
    set.port = String(inst.port);
    set.unix_socket_directories = inst.socketDir;
    set.primary_slot_name = target.slot ?? '';
    if (pg.restoreCommand !== undefined) set.restore_command = pg.restoreCommand;
    const steps: Step[] = [
      { id: id.basebackup, op: 'postgres.basebackup', title: `pg_basebackup -X stream -R -c fast${target.slot ? ` -S ${target.slot}` : ''} from ${target.host}:${target.port} as ${target.user} into ${staging}`, args: { instance: inst, target, passwordRef, staging } },
      { id: id.install, op: 'postgres.install', title: rebuild ? `stop the old server, move ${inst.dataDir} aside (kept, not deleted), put the new copy in place` : `put the new copy in place at ${inst.dataDir}`, after: [id.basebackup], args: { instance: inst, staging, replace: rebuild !== null } },
      { id: id.configure, op: 'postgres.configure', title: `write the standby's own settings and primary_conninfo into ${inst.dataDir}/postgresql.auto.conf`, after: [id.install], args: { instance: inst, target, passwordRef, set } },
      { id: id.start, op: 'postgres.start', title: `start PostgreSQL in ${inst.dataDir}`, after: [id.configure], args: { instance: inst } },
      verifyStep(inst, target, passwordRef),
    ];
    return {
      changes: [{
        address: A.standby,
        kind: KIND,
        action: rebuild ? 'replace' : 'create',
        risk: judge(o, A.standby, pg),
        summary: rebuild
          ? `rebuild the standby: ${rebuild}; stop it, move the directory aside, copy the primary ${target.host}:${target.port} afresh`
          : `create a standby of ${target.host}:${target.port} in ${inst.dataDir} (${o.dataDir.state}) with a base backup, then start it`,
        diff: '',
        steps,
        notes: ['the base backup makes the primary take an immediate checkpoint (-c fast)', ...(rebuild ? [`the old data directory is kept as ${inst.dataDir}.reconcile-old-<time>`] : [])],
      }],
      observedByAddress,
      managed,
      warnings,
    };
  }

  // Our cluster, a standby of the right primary (or the primary cannot tell us otherwise).
  if (!primaryId && primaryError) {
    if (primaryError.kind === 'auth' || primaryError.kind === 'hba') {
      throw new UserError(`postgres: ${primaryError.error}; nothing was changed`);
    }
    warnings.push(`postgres: could not compare system identifiers: ${primaryError.error}`);
  }
  if (!o.server) {
    const settings = settingsForVersion(pg.settings ?? {}, o.binVersion ?? 150000);
    const set: Record<string, string> = Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, String(v)]));
    set.primary_slot_name = target.slot ?? '';
    if (pg.restoreCommand !== undefined) set.restore_command = pg.restoreCommand;
    const change = notRunning(pg, o, 'standby');
    change.steps = [
      { id: id.configure, op: 'postgres.configure', title: `write the standby's settings and primary_conninfo into ${inst.dataDir}/postgresql.auto.conf`, args: { instance: inst, target, passwordRef, set } },
      { ...change.steps[0]!, after: [id.configure] },
      verifyStep(inst, target, passwordRef),
    ];
    return { changes: [change], observedByAddress, managed, warnings };
  }

  const server = o.server;
  const changes = [...settingChanges(pg, o, server, observedByAddress, target), ...hbaChanges(pg, o, observedByAddress)];
  const ci = server.conninfo;
  const diffs: string[] = [];
  const want = { host: target.host, port: String(target.port), user: target.user, application_name: target.applicationName };
  for (const [k, v] of Object.entries(want)) if ((ci?.params[k] ?? '') !== v) diffs.push(`${k} ${ci?.params[k] ?? '(none)'} -> ${v}`);
  // Without the host's key (a plan from facts) the password is not compared; the other fields are.
  const wantPassword = digest?.(password) ?? null;
  if (wantPassword !== null && ci?.passwordHmac !== wantPassword) diffs.push('password (not shown)');
  const slotNow = server.settings.primary_slot_name?.setting ?? '';
  if (slotNow !== (target.slot ?? '')) diffs.push(`primary_slot_name ${slotNow || '(none)'} -> ${target.slot ?? '(none)'}`);
  const restoreNow = server.settings.restore_command?.setting ?? '';
  if (pg.restoreCommand !== undefined && restoreNow !== pg.restoreCommand) diffs.push('restore_command');
  if (diffs.length) {
    if (primaryError?.kind === 'auth') throw new UserError(`postgres: ${primaryError.error}; nothing was changed`);
    // What the server says of each setting it changes (primary_conninfo reloads from 13, restore_command from 14).
    const touched = ['primary_conninfo', 'primary_slot_name', ...(pg.restoreCommand !== undefined && restoreNow !== pg.restoreCommand ? ['restore_command'] : [])];
    const reloadable = !touched.some((name) => needsRestart(server.settings[name]) || (server.settings[name] === undefined && server.version < 130000));
    changes.push({
      address: A.standby,
      kind: KIND,
      action: 'update',
      risk: judge(o, A.standby, pg),
      summary: `point the standby at ${target.host}:${target.port} as ${target.user}: ${diffs.join(', ')}`,
      diff: '',
      steps: [
        { id: id.conninfo, op: 'postgres.conninfo', title: 'ALTER SYSTEM SET primary_conninfo (password not shown), primary_slot_name, restore_command', args: { instance: inst, target, passwordRef, restoreCommand: pg.restoreCommand ?? null } },
        reloadStep(inst),
        ...(reloadable ? [] : [restartStep(inst)]),
        verifyStep(inst, target, passwordRef),
      ],
    });
  } else if (server.walReceiver?.status !== 'streaming') {
    warnings.push(`postgres: the standby is configured but its wal receiver is ${server.walReceiver?.status ?? 'not running'} (see ${inst.logFile})`);
  }
  return { changes, observedByAddress, managed, warnings };
}

/** The spec's host name as an application_name (what pg_stat_replication shows on the primary). */
export function applicationNameOf(hostName: string): string {
  return hostName.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 63);
}
