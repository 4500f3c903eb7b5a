/**
 * What `fleet status` concludes (DESIGN §8.5), from plain data: the inventory's hosts, what Redis
 * holds, the spec digests at HEAD. Pure, so every rule is a table case.
 */
import type { StoredStatus } from './store.js';
import { RESULTS, type StatusRecord } from './record.js';

export const STALE_GRACE_MS = 5 * 60_000;
export const DEFAULT_INTERVAL_SEC = 15 * 60;

export type Attention =
  | 'failed'
  | 'blocked'
  | 'stale'
  | 'never reported'
  | 'not in fleet'
  | 'duplicate identity'
  | 'drift'
  | 'behind'
  | 'below minVersion'
  | 'unreadable';

export interface HostView {
  host: string;
  inFleet: boolean;
  groups: string[];
  record: StatusRecord | null;
  /** Redis time (ms) of the last report. */
  at: number | null;
  /** Why this host needs a human; empty when it does not. */
  attention: Attention[];
  /** A sentence per attention, for the text form. */
  why: string[];
  behind: boolean;
}

export interface FleetView {
  formatVersion: 1;
  fleet: string;
  now: number;
  /** Set right after a Redis restart: hosts that have not reported since are not flagged. */
  incompleteSince: number | null;
  counts: Record<string, number>;
  hosts: HostView[];
  attention: boolean;
}

export interface AssessInput {
  fleet: string;
  /** Inventory hosts (name -> groups), in the order to show. */
  inventory: Map<string, string[]>;
  status: Map<string, StoredStatus>;
  now: number;
  /** When Redis's data set began (its first status write): young after Redis lost its data. */
  epoch: number | null;
  /** Merged spec digest of each inventory host at HEAD; missing when the spec does not merge. */
  headDigest: Map<string, string>;
  minVersion?: string;
}

export function staleAfterMs(intervalSec: number | undefined): number {
  const i = intervalSec && intervalSec > 0 ? intervalSec : DEFAULT_INTERVAL_SEC;
  return 2 * i * 1000 + STALE_GRACE_MS;
}

/** Dotted numeric versions, compared part by part ("0.10.0" > "0.9.1"); a pre-release sorts first. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.replace(/^v/, '').split('-', 2);
    return { parts: core!.split('.').map((x) => Number.parseInt(x, 10) || 0), pre: pre !== undefined };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < Math.max(x.parts.length, y.parts.length); i++) {
    const d = (x.parts[i] ?? 0) - (y.parts[i] ?? 0);
    if (d) return Math.sign(d);
  }
  return x.pre === y.pre ? 0 : x.pre ? -1 : 1;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export function assessFleet(input: AssessInput): FleetView {
  // After Redis lost its data (a restart without persistence) every key is new: a host is only
  // "never reported" once it had two intervals plus the grace to report again.
  const incomplete = input.epoch === null || input.now - input.epoch < staleAfterMs(DEFAULT_INTERVAL_SEC);
  const names = [...input.inventory.keys(), ...[...input.status.keys()].filter((h) => !input.inventory.has(h)).sort()];
  const hosts: HostView[] = names.map((host) => {
    const stored = input.status.get(host);
    const record = stored?.record ?? null;
    const inFleet = input.inventory.has(host);
    const v: HostView = { host, inFleet, groups: input.inventory.get(host) ?? [], record, at: stored?.at ?? null, attention: [], why: [], behind: false };
    const flag = (a: Attention, why: string) => {
      v.attention.push(a);
      v.why.push(why);
    };
    if (!inFleet) flag('not in fleet', 'reports status but is not a host of fleet.yaml (fleet forget HOST when decommissioned)');
    if (!stored) {
      if (!incomplete) flag('never reported', 'has never reported status');
      return v;
    }
    if (!record) {
      flag('unreadable', `its status key holds ${stored.broken ?? 'something else'}`);
      return v;
    }
    const staleMs = staleAfterMs(record.interval);
    if (input.now - stored.at > staleMs) flag('stale', `silent since ${iso(stored.at)} (more than 2 × its interval ${record.interval}s + 5 min)`);
    if (stored.other && stored.machineId && stored.other.machineId !== stored.machineId && stored.at - stored.other.at <= staleMs) {
      flag('duplicate identity', `two machines report as ${host} (machine ids ${stored.other.machineId.slice(0, 12)} and ${stored.machineId.slice(0, 12)})`);
    }
    if (record.result === 'failed') flag('failed', `failed at ${iso(stored.at)}: ${record.error ?? 'no message'}`);
    if (record.result === 'blocked') flag('blocked', `blocked: ${record.blockedBy ?? record.error ?? 'by another host'}`);
    if (record.drift > 0) flag('drift', `${record.drift} unacknowledged drift: ${record.pending.join(', ')}${record.pendingCount > record.pending.length ? ', …' : ''}`);
    const head = input.headDigest.get(host);
    if (inFleet && head && head !== record.lastConverged?.specDigest) {
      v.behind = true;
      flag('behind', record.lastConverged ? `last converged at ${iso(record.lastConverged.at)} on another spec (commit ${record.lastConverged.commit?.slice(0, 12) ?? 'unknown'}) than HEAD` : 'has never converged on its spec at HEAD');
    }
    if (input.minVersion && compareVersions(record.version, input.minVersion) < 0) flag('below minVersion', `runs reconcile ${record.version}, below minVersion ${input.minVersion}`);
    return v;
  });
  const counts: Record<string, number> = { hosts: hosts.filter((h) => h.inFleet).length, reported: hosts.filter((h) => h.record).length };
  for (const h of hosts) {
    if (h.record) counts[h.record.result] = (counts[h.record.result] ?? 0) + 1;
    // failed and blocked are results already: counted once.
    for (const a of h.attention) if (!(RESULTS as readonly string[]).includes(a)) counts[a] = (counts[a] ?? 0) + 1;
  }
  return {
    formatVersion: 1,
    fleet: input.fleet,
    now: input.now,
    incompleteSince: incomplete ? (input.epoch ?? input.now) : null,
    counts,
    hosts,
    attention: hosts.some((h) => h.attention.length > 0),
  };
}
