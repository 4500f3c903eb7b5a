/**
 * What a host's run-time needs to know of its fleet (DESIGN §8.4, §8.5): the fleet's name (its
 * Redis key prefix), the host's entry, its rollout groups with the defaults filled in, the fleet's
 * Redis reference and the hosts it runs after. Read from the same repository the spec came from.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { sha256 } from '../hash.js';
import { findFleetRoot, realPath } from './files.js';
import { loadFleet, type Fleet, type FleetHost } from './inventory.js';

/** A group's rollout with every field decided (DESIGN §8.4). */
export interface Rollout {
  /** An integer, or a percentage of the group's size as written ("10%"); see `slotLimit`. */
  maxParallel: number | string;
  maxFailures: number;
  canary: number;
  gate: 'none' | 'reload' | 'restart' | 'disruptive' | 'destructive';
  /** Seconds a deferred apply waits for a slot before it exits 2. */
  wait: string;
  afterTimeout: string;
  [more: string]: unknown;
}

export const ROLLOUT_DEFAULTS: Rollout = { maxParallel: 1, maxFailures: 1, canary: 0, gate: 'restart', wait: '5m', afterTimeout: '30m' };

export interface RolloutGroup {
  name: string;
  /** Members of the group in the fleet (for a percentage maxParallel). */
  size: number;
  rollout: Rollout;
}

export interface HostFleetContext {
  fleet: Fleet;
  fleetRoot: string;
  /** Redis keys of this fleet start with `reconcile:<name>:`. */
  name: string;
  host: FleetHost;
  /** The host's groups in group-name order (the order slots are taken in), with rollouts resolved. */
  groups: RolloutGroup[];
  /** The fleet's Redis: a secret reference to a URL, or a Sentinel map; every host's default lock.redis. */
  redis?: unknown;
}

/**
 * The fleet context of a spec file, or undefined for a spec outside any fleet or a file the fleet
 * does not list as a host's spec. A broken inventory is not this function's to report
 * (`validate --fleet` does): it returns what the inventory yielded.
 */
export function fleetContextFor(specFile: string): HostFleetContext | undefined {
  const abs = realPath(specFile);
  const { fleetRoot } = findFleetRoot(path.dirname(abs));
  if (!fleetRoot) return undefined;
  const { fleet } = loadFleet(fleetRoot);
  const host = [...fleet.hosts.values()].find((h) => existsSync(h.spec) && realPath(h.spec) === abs);
  if (!host) return undefined;
  return contextOf(fleet, host);
}

export function contextOf(fleet: Fleet, host: FleetHost): HostFleetContext {
  const groups = [...host.groups].sort().map((name) => rolloutGroup(fleet, name));
  return { fleet, fleetRoot: fleet.root, name: fleet.name ?? path.basename(fleet.root), host, groups, redis: fleet.redis };
}

/** A group of the fleet with its rollout decided: the group's own, then the fleet's defaults, then ours. */
export function rolloutGroup(fleet: Fleet, name: string): RolloutGroup {
  const defaults = (fleet.defaults.rollout ?? {}) as Partial<Rollout>;
  return {
    name,
    size: [...fleet.hosts.values()].filter((h) => h.groups.includes(name)).length,
    rollout: { ...ROLLOUT_DEFAULTS, ...defaults, ...((fleet.groups.get(name)?.rollout ?? {}) as Partial<Rollout>) },
  };
}

/** maxParallel as a count: a percentage of the group, rounded down, at least 1 (DESIGN §8.4 rule 3). */
export function slotLimit(group: RolloutGroup): number {
  const m = group.rollout.maxParallel;
  if (typeof m === 'number') return m;
  return Math.max(1, Math.floor((group.size * Number(m.slice(0, -1))) / 100));
}

/**
 * The digest of a merged spec's value: canonical JSON (keys sorted at every depth), so the same
 * spec written in another key order or split differently into fragments has the same digest.
 * Plans record it; "behind" and `after:` compare it (never commits).
 */
export function mergedSpecDigest(value: unknown): string {
  return sha256(canonicalJson(value));
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
