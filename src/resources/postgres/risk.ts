import { isDeepStrictEqual } from 'node:util';
import { at, worst, type Assessed, type KindRisk } from '../types.js';
import type { PostgresSpec } from '../../spec/types.js';
import { PG_SETTING_CONTEXTS } from './setting-contexts.js';
import { applyRules, parseHba, renderHba, ruleKey, type HbaRule } from './hba.js';
import { sameValue, settingsForVersion } from './settings.js';
import type { PgObserved } from './types.js';

export const entries: KindRisk<PostgresSpec>['entries'] = (spec) => (spec.postgres !== undefined ? [['postgres', spec.postgres]] : []);

/** The plan's addresses of the parts of the postgres entry. */
export const A = {
  server: 'postgres.server',
  standby: 'postgres.standby',
  setting: (n: string) => `postgres.settings[${n}]`,
  user: (n: string) => `postgres.users[${n}]`,
  hba: (r: Pick<HbaRule, 'type' | 'database' | 'user' | 'address'>) => `postgres.hba[${ruleKey(r)}]`,
  slot: (n: string) => `postgres.slots[${n}]`,
};

export function toRule(h: NonNullable<PostgresSpec['hba']>[number]): HbaRule {
  return { type: h.type, database: h.database, user: h.user, ...(h.type === 'local' ? {} : { address: h.address ?? 'all' }), method: h.method, options: h.options ?? '' };
}

/**
 * What only the live server knows. Without it (review) the answer is the worse case: a setting
 * PostgreSQL's table does not know needs a restart, a new primary host may be another cluster.
 */
export interface PgRiskContext {
  /** pg_settings.context of each setting the change touches, by the spec's name. */
  settingContexts?: Record<string, string>;
  /** Settings the server holds changed but pending a restart (pg_settings.pending_restart). */
  pendingRestart?: string[];
  /** The server answers; a stopped one is started. */
  running?: boolean;
  /** The standby's data directory as found. */
  dataDir?: PgObserved['dataDir']['state'];
  /** The standby's cluster has another system identifier than its primary's: it is rebuilt. */
  otherCluster?: boolean;
}

/**
 * Whether changing a setting needs a server restart (context `postmaster`, or a change already
 * pending one). The live server's pg_settings says so in a plan; review has only PostgreSQL's own
 * table, and judges a setting it does not know the worse way (a restart). A setting the live
 * server does not list is a placeholder (`x.y`): reloaded.
 */
export function needsRestartSetting(name: string, context?: PgRiskContext): boolean {
  if (context) return context.settingContexts?.[name] === 'postmaster' || !!context.pendingRestart?.includes(name);
  const known = PG_SETTING_CONTEXTS[name];
  return known === undefined || known === 'postmaster' || known === 'internal';
}

/** Settings written when the standby's connection to its primary changes. */
const CONNINFO_SETTINGS = ['primary_conninfo', 'primary_slot_name'];

/**
 * The spec entry with the part at `address` as the host has it (the rest as desired, so that the
 * risk judged is that one change's), and what only the live server tells. The host shows no
 * password, only its HMAC under the host's key: an observed primary connection has none, and the
 * diff (which holds the key) plans a change of it only when something differs.
 */
export function observedEntry(o: PgObserved | null, address: string, desired: PostgresSpec | undefined): { entry: PostgresSpec | undefined; context: PgRiskContext } {
  if (!o || !desired) return { entry: undefined, context: {} };
  const server = o.server;
  const context: PgRiskContext = { running: !!server, dataDir: o.dataDir.state, settingContexts: {}, pendingRestart: [] };
  const judged = (name: string, key = name) => {
    const s = server?.settings[name];
    if (s) context.settingContexts![key] = s.context;
    if (s?.pending) context.pendingRestart!.push(key);
  };
  if (address === A.server) return { entry: desired, context };
  if (address === A.standby) {
    if (o.dataDir.state !== 'cluster') return { entry: undefined, context };
    const ours = server?.systemIdentifier ?? o.dataDir.systemIdentifier ?? null;
    const primaryId = o.primary && 'systemIdentifier' in o.primary ? o.primary.systemIdentifier : null;
    context.otherCluster = !!ours && !!primaryId && ours !== primaryId;
    const role = (server ? server.inRecovery : o.dataDir.standbySignal) ? 'standby' : 'primary';
    if (!server) return { entry: { ...desired, role }, context };
    const p = server.conninfo?.params ?? {};
    const slot = server.settings.primary_slot_name?.setting || undefined;
    const primary = { host: p.host ?? '', ...(p.port ? { port: Number(p.port) } : {}), user: p.user ?? '', ...(slot ? { slot } : {}) } as NonNullable<PostgresSpec['primary']>;
    const restoreCommand = desired.restoreCommand === undefined ? undefined : (server.settings.restore_command?.setting ?? '');
    for (const name of [...CONNINFO_SETTINGS, 'restore_command']) {
      judged(name);
      // Before 13 these are read only at server start (pg_settings may not list them at all).
      if (!server.settings[name] && server.version < 130000) context.settingContexts![name] = 'postmaster';
    }
    const { restoreCommand: _, ...rest } = desired;
    return { entry: { ...rest, role, primary, ...(restoreCommand !== undefined ? { restoreCommand } : {}) }, context };
  }
  if (!server) return { entry: desired, context };
  const part = /^postgres\.(settings|users|hba|slots)\[(.*)\]$/.exec(address);
  if (part?.[1] === 'settings') {
    const key = part[2]!;
    const value = desired.settings?.[key];
    if (value === undefined) return { entry: desired, context };
    const segment = Number(server.settings.wal_segment_size?.setting ?? 16 * 1024 ** 2);
    // The server's name for it (wal_keep_size is wal_keep_segments before 13).
    const [[name, want]] = Object.entries(settingsForVersion({ [key]: value }, server.version, segment)) as [[string, string | number | boolean]];
    const s = server.settings[name];
    judged(name, key);
    const settings = { ...desired.settings };
    if (s && sameValue(want, s)) return { entry: desired, context };
    if (s?.setting != null) settings[key] = s.setting;
    else delete settings[key];
    return { entry: { ...desired, settings }, context };
  }
  if (part?.[1] === 'users') {
    const role = server.roles[part[2]!];
    const users = (desired.users ?? []).flatMap((u) => (u.name !== part[2] ? [u] : role ? [{ name: u.name, login: role.login, replication: role.replication }] : []));
    return { entry: { ...desired, users }, context };
  }
  if (part?.[1] === 'hba' && o.hba) {
    const rule = (desired.hba ?? []).map(toRule).find((r) => A.hba(r) === address);
    if (!rule) return { entry: desired, context };
    const lines = parseHba(o.hba.text, { continuation: server.version >= 160000 });
    if (renderHba(applyRules(lines, [rule])) === o.hba.text) {
      // The rule is there as written; what may differ is its place among the spec's rules (first match wins).
      const at = (h: NonNullable<PostgresSpec['hba']>[number]) => lines.findIndex((l) => l.rule && ruleKey(l.rule) === ruleKey(toRule(h)));
      const wanted = desired.hba ?? [];
      const found = wanted.filter((h) => at(h) !== -1).sort((x, y) => at(x) - at(y));
      let k = 0;
      const hba = wanted.map((h) => (at(h) === -1 ? h : found[k++]!));
      return { entry: isDeepStrictEqual(hba, wanted) ? desired : { ...desired, hba }, context };
    }
    const current = lines.flatMap((l) => (l.rule && ruleKey(l.rule) === ruleKey(rule) ? [fromRule(l.rule)] : []));
    const hba = (desired.hba ?? []).flatMap((h) => (A.hba(toRule(h)) === address ? current : [h]));
    return { entry: { ...desired, hba }, context };
  }
  if (part?.[1] === 'slots') {
    const exists = server.slots.some((s) => s.name === part[2]);
    return { entry: { ...desired, slots: (desired.slots ?? []).filter((s) => s !== part[2] || exists) }, context };
  }
  return { entry: desired, context };
}

function fromRule(r: HbaRule): NonNullable<PostgresSpec['hba']>[number] {
  return { type: r.type, database: r.database, user: r.user, ...(r.address !== undefined ? { address: r.mask ? `${r.address} ${r.mask}` : r.address } : {}), method: r.method, ...(r.options ? { options: r.options } : {}) };
}

export function risk(b: PostgresSpec | undefined, a: PostgresSpec | undefined, context?: PgRiskContext): Assessed {
  if (b && !a) return at('none', 'postgres leaves the spec: nothing is removed (roles and data are never removed implicitly)');
  const before: Partial<PostgresSpec> = b ?? {};
  if (!a) return at('none');
  const found: Assessed[] = [];
  const standby = a.role === 'standby';
  if (b && !isDeepStrictEqual(b.instance, a.instance)) found.push(at('disruptive', 'instance changed: another cluster is managed'));
  if (b && b.role === 'primary' && standby) found.push(at('destructive', 'primary -> standby: the data directory is rebuilt from the primary'));
  if (b && b.role === 'standby' && a.role === 'primary') found.push(at('disruptive', 'standby -> primary: promoted'));
  // A new standby is copied whole, its settings and hba in it before it starts: nothing else is judged.
  if (!b && standby && context) return context.dataDir === 'other' ? at('destructive', 'the data directory holds files but no cluster: rebuilt from the primary') : at('none', 'new standby: a base backup from the primary');
  if (!b && standby) found.push(at('destructive', 'standby: rebuilt from the primary unless it already follows it'));
  if (standby && context?.otherCluster) found.push(at('destructive', 'the data directory is another cluster than the primary\'s: rebuilt'));
  // A stopped server is started (a standby with its settings written first).
  if (b && context?.running === false) found.push(at('restart', 'not running: started'));
  // Only the live server tells whether a new primary host is the same cluster; review assumes not.
  if (b?.role === 'standby' && standby && !context && b.primary?.host !== a.primary?.host) found.push(at('destructive', `primary host ${b.primary?.host} -> ${a.primary?.host}: standby rebuilt`));
  else if (b?.role === 'standby' && standby && (context?.running ?? true) && (!isDeepStrictEqual(b.primary, a.primary) || (a.restoreCommand !== undefined && b.restoreCommand !== a.restoreCommand))) {
    const touched = [...CONNINFO_SETTINGS, ...(a.restoreCommand !== undefined && b.restoreCommand !== a.restoreCommand ? ['restore_command'] : [])];
    const restart = touched.filter((n) => needsRestartSetting(n, context));
    found.push(restart.length ? at('restart', `primary connection changed: ${restart.join(', ')} need a restart`) : at('reload', 'primary connection changed: reloaded'));
  }
  const keys = new Set([...Object.keys(before.settings ?? {}), ...Object.keys(a.settings ?? {})]);
  const changed = [...keys].filter((k) => !isDeepStrictEqual(before.settings?.[k], a.settings?.[k])).sort();
  const restart = changed.filter((k) => needsRestartSetting(k, context));
  if (restart.length) found.push(at('restart', `settings needing a restart: ${restart.join(', ')}`));
  if (changed.length > restart.length) found.push(at('reload', `settings reloaded: ${changed.filter((k) => !needsRestartSetting(k, context)).join(', ')}`));
  if (!isDeepStrictEqual(before.hba, a.hba)) found.push(at('reload', 'pg_hba.conf changed: reloaded'));
  if (!isDeepStrictEqual(before.users, a.users)) found.push(at('none', 'roles changed'));
  const goneSlots = (before.slots ?? []).filter((s) => !(a.slots ?? []).includes(s));
  if (goneSlots.length) found.push(at('disruptive', `replication slots dropped: ${goneSlots.join(', ')} (a standby using one breaks)`));
  if (!standby && before.restoreCommand !== a.restoreCommand) found.push(at('reload', 'restore_command changed'));
  return found.length ? worst(found) : at('none', b ? 'changed' : 'postgres managed');
}
