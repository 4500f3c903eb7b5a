import type { Diagnostic } from '../../errors.js';
import type { PostgresSpec } from '../../spec/types.js';
import { hbaRuleId } from '../addresses.js';
import type { MergedSpec } from '../merge.js';
import { addressesSeenBy, finding, findServer, nearestHost, where, type FleetView } from './view.js';
import { inNetwork, parseIp } from './net.js';

/** PostgreSQL 15's defaults, for settings a spec does not name. */
const DEFAULTS: Record<string, number> = { max_wal_senders: 10, max_replication_slots: 10, max_connections: 100, max_worker_processes: 8, max_prepared_transactions: 0, max_locks_per_transaction: 64 };
/** A hot standby refuses to start when one of these is below its upstream's. */
const HOT_STANDBY_MINIMUMS = ['max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction'];

const setting = (pg: PostgresSpec, name: string): number => {
  const v = pg.settings?.[name];
  return v === undefined ? DEFAULTS[name]! : Number(v);
};

/**
 * DESIGN §8.3, PostgreSQL: each standby against its upstream's merged spec: the upstream is a
 * fleet host (a primary, or a standby: cascading, without cycles); its hba, first match wins,
 * admits the standby for `replication`; the user and the slot exist; WAL senders and slots
 * suffice; the versions and the hot-standby settings agree.
 */
export function postgresChecks(view: FleetView): Diagnostic[] {
  const out: Diagnostic[] = [];
  const upstreamOf = new Map<string, string>();
  const standbysOf = new Map<string, string[]>();
  const slotUsers = new Map<string, Map<string, string>>();
  for (const [name, m] of view.merged) {
    const pg = m.value.postgres;
    if (!pg || pg.role !== 'standby' || !pg.primary) continue;
    const at = ['postgres', 'primary', 'host'];
    const found = findServer(view, pg.primary.host);
    if (found.kind === 'external') continue;
    if (found.kind === 'none') {
      out.push(finding(m, at, `postgres.primary: ${pg.primary.host} is neither a fleet host nor external in ${view.fleet.file.display}; not checked${nearestHost(view, pg.primary.host)}`, 'warning'));
      continue;
    }
    const upName = found.host.name;
    const um = view.merged.get(upName);
    if (!um) continue;
    const up = um.value.postgres;
    const upFile = um.hostFile.file.display;
    if (!up) {
      out.push(finding(m, at, `postgres.primary: ${upName} runs no PostgreSQL in its spec (${upFile})`, 'error'));
      continue;
    }
    upstreamOf.set(name, upName);
    standbysOf.set(upName, [...(standbysOf.get(upName) ?? []), name]);
    const client = view.fleet.hosts.get(name)!;
    const seen = addressesSeenBy(client, found.host);
    const user = pg.primary.user;

    const rule = firstHbaMatch(up, user, seen, [name, ...client.names]);
    if (rule.verdict === 'none') out.push(finding(m, at, `postgres.primary: no hba rule of ${upName} admits ${user} from ${seen.join(', ')} to database replication (${upFile}; "all" does not cover replication)`, 'error'));
    else if (rule.verdict === 'unknown') out.push(finding(m, at, `postgres.primary: whether ${upName}'s hba admits ${user} from ${seen.join(', ')} is unknown: ${rule.reason} (${where(um, ['postgres', 'hba', rule.index])})`, 'warning'));
    else if (up.hba?.[rule.index]?.method !== 'reject') view.uses?.push({ server: upName, what: 'hba rule', address: `postgres.hba[${hbaRuleId(up.hba![rule.index]!)}]`, by: name, through: 'postgres.primary' });
    if (rule.verdict === 'ok' && up.hba?.[rule.index]?.method === 'reject') out.push(finding(m, at, `postgres.primary: ${upName}'s first matching hba rule rejects ${user} from ${seen.join(', ')} (${where(um, ['postgres', 'hba', rule.index])})`, 'error'));

    const u = (up.users ?? []).findIndex((x) => x.name === user);
    if (u < 0) out.push(finding(m, ['postgres', 'primary', 'user'], `postgres.primary: ${upName} declares no user ${user} (${upFile})`, 'error'));
    else view.uses?.push({ server: upName, what: 'user', address: `postgres.users[${user}]`, by: name, through: 'postgres.primary.user' });
    if (u >= 0 && !up.users![u]!.replication) out.push(finding(m, ['postgres', 'primary', 'user'], `postgres.primary: ${upName}'s user ${user} lacks replication: true (${where(um, ['postgres', 'users', u])})`, 'error'));

    const slot = pg.primary.slot;
    if (slot !== undefined) {
      const s = (up.slots ?? []).indexOf(slot);
      if (s < 0) out.push(finding(m, ['postgres', 'primary', 'slot'], `postgres.primary: ${upName} creates no slot ${slot} (${upFile})`, 'error'));
      else view.uses?.push({ server: upName, what: 'slot', address: `postgres.slots[${slot}]`, by: name, through: 'postgres.primary.slot' });
      const users = slotUsers.get(upName) ?? new Map<string, string>();
      slotUsers.set(upName, users);
      const other = users.get(slot);
      if (other) out.push(finding(m, ['postgres', 'primary', 'slot'], `postgres.primary: slot ${slot} of ${upName} is used by ${other} too (${where(view.merged.get(other)!, ['postgres', 'primary', 'slot'])}); a slot serves one standby`, 'error'));
      else users.set(slot, name);
    }
    const version = (p: PostgresSpec) => (p.instance as { version?: number }).version;
    if (version(pg) !== undefined && version(up) !== undefined && version(pg) !== version(up)) {
      out.push(finding(m, ['postgres', 'instance', 'version'], `postgres.instance: version ${version(pg)} cannot stream from ${upName}'s version ${version(up)} (${where(um, ['postgres', 'instance', 'version'])})`, 'error'));
    }
    for (const k of HOT_STANDBY_MINIMUMS) {
      if (setting(pg, k) < setting(up, k)) {
        const upAt = up.settings?.[k] !== undefined ? where(um, ['postgres', 'settings', k]) : `${upFile}, the default`;
        out.push(finding(m, pg.settings?.[k] !== undefined ? ['postgres', 'settings', k] : ['postgres'], `postgres.settings.${k}: ${setting(pg, k)} is below ${upName}'s ${setting(up, k)} (${upAt}); a hot standby refuses to start`, 'error'));
      }
    }
  }
  for (const [upName, standbys] of standbysOf) {
    const um = view.merged.get(upName)!;
    const up = um.value.postgres!;
    const need = standbys.length + 2;
    if (setting(up, 'max_wal_senders') < need) out.push(finding(um, ['postgres', 'settings', 'max_wal_senders'], `postgres.settings.max_wal_senders: ${setting(up, 'max_wal_senders')} is below ${need}, for ${standbys.length} standby(s) (${standbys.join(', ')}) and 2 spare`, 'error'));
    if (setting(up, 'max_replication_slots') < (up.slots ?? []).length) out.push(finding(um, ['postgres', 'slots'], `postgres.settings.max_replication_slots: ${setting(up, 'max_replication_slots')} is below the ${(up.slots ?? []).length} slots declared`, 'error'));
    const wal = String(up.settings?.wal_level ?? 'replica');
    if (wal === 'minimal') out.push(finding(um, ['postgres', 'settings', 'wal_level'], `postgres.settings.wal_level: minimal cannot feed the standbys ${standbys.join(', ')}; use replica`, 'error'));
  }
  // A slot nobody streams from keeps WAL forever.
  for (const [name, m] of view.merged) {
    const pg = m.value.postgres;
    (pg?.slots ?? []).forEach((slot, i) => {
      if (!slotUsers.get(name)?.has(slot)) out.push(finding(m, ['postgres', 'slots', i], `postgres.slots: no standby of the fleet uses slot ${slot}; it keeps WAL until the disk fills`, 'warning'));
    });
  }
  out.push(...cycles(view, upstreamOf));
  return out;
}

function cycles(view: FleetView, upstreamOf: Map<string, string>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const reported = new Set<string>();
  for (const start of upstreamOf.keys()) {
    const trail: string[] = [];
    let cur: string | undefined = start;
    while (cur && !trail.includes(cur)) {
      trail.push(cur);
      cur = upstreamOf.get(cur);
    }
    if (!cur || reported.has(cur)) continue;
    const cycle = trail.slice(trail.indexOf(cur));
    cycle.forEach((c) => reported.add(c));
    const m: MergedSpec = view.merged.get(cur)!;
    out.push(finding(m, ['postgres', 'primary', 'host'], `postgres.primary: standbys stream from each other in a cycle: ${[...cycle, cur].join(' → ')}; one of them must be a primary`, 'error'));
  }
  return out;
}

/** pg_hba.conf, first match wins, for a TCP connection to database replication. */
function firstHbaMatch(up: PostgresSpec, user: string, addresses: string[], names: string[]): { verdict: 'ok'; index: number } | { verdict: 'none' } | { verdict: 'unknown'; reason: string; index: number } {
  const rules = up.hba ?? [];
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    if (r.type === 'local') continue;
    if (!r.database.split(',').includes('replication')) continue;
    const users = r.user.split(',');
    if (!users.includes('all') && !users.includes(user)) {
      if (users.some((u) => u.startsWith('+') || u.startsWith('@'))) return { verdict: 'unknown', reason: `the user field ${r.user} names a group or a file`, index: i };
      continue;
    }
    const a = r.address ?? 'all';
    let match: boolean | 'unknown';
    if (a === 'all') match = true;
    else if (a === 'samehost' || a === 'samenet') match = 'unknown';
    else if (a.includes('/')) match = addresses.some((x) => inNetwork(x, a));
    else if (parseIp(a)) match = addresses.includes(a);
    else match = names.some((n) => n.toLowerCase() === a.toLowerCase() || (a.startsWith('.') && n.toLowerCase().endsWith(a.toLowerCase()))) || 'unknown';
    if (match === false) continue;
    if (match === 'unknown') return { verdict: 'unknown', reason: `the address ${a} needs DNS or the server's interfaces`, index: i };
    if (r.type !== 'host') return { verdict: 'unknown', reason: `the rule is ${r.type}: it depends on the connection's SSL or GSS encryption`, index: i };
    return { verdict: 'ok', index: i };
  }
  return { verdict: 'none' };
}
