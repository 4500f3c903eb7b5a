import type { Diagnostic } from '../../errors.js';
import type { PathSegment } from '../../spec/load.js';
import { originOf } from '../check.js';
import type { Fleet, FleetHost } from '../inventory.js';
import type { MergedSpec } from '../merge.js';
import { bareAddress, inNetwork } from './net.js';

/** The fleet and every host's merged spec: what the checks between hosts read. */
export interface FleetView {
  fleet: Fleet;
  merged: Map<string, MergedSpec>;
  /** When given, the checks record here what each host uses of another (review's unsafe transitions). */
  uses?: Use[];
}

/**
 * One host relying on an entry of another: an export and the client entry that admits a mount, the
 * hba rule, user and slot a standby streams through. `address` is the entry's address in the
 * server's merged spec (DESIGN §8.2 rule 1); `through` is the user's own address that needs it.
 */
export interface Use {
  server: string;
  what: 'export' | 'export client' | 'hba rule' | 'user' | 'slot';
  address: string;
  by: string;
  through: string;
}

export type Found = { kind: 'host'; host: FleetHost } | { kind: 'external' } | { kind: 'none' };

/** A server named in a spec (an address or a name) as the fleet knows it. */
export function findServer(view: FleetView, server: string): Found {
  const idx = index(view);
  return idx.get(server) ?? idx.get(server.toLowerCase()) ?? { kind: 'none' };
}

const indexes = new WeakMap<FleetView, Map<string, Found>>();

/** Every name and address of the fleet, once per view: a mount is looked up in O(1), not per host. */
function index(view: FleetView): Map<string, Found> {
  let idx = indexes.get(view);
  if (idx) return idx;
  idx = new Map();
  for (const e of view.fleet.external) for (const k of [...e.addresses.map(bareAddress), ...e.names.map((n) => n.toLowerCase())]) idx.set(k, { kind: 'external' });
  for (const h of view.fleet.hosts.values()) {
    const found: Found = { kind: 'host', host: h };
    for (const k of [h.name.toLowerCase(), ...h.names.map((n) => n.toLowerCase()), ...[...h.addresses, ...h.seenAs].map(bareAddress)]) idx.set(k, found);
  }
  indexes.set(view, idx);
  return idx;
}

/** The client's addresses as the server sees them: those on the server's subnets, else seenAs, else all. */
export function addressesSeenBy(client: FleetHost, server: FleetHost): string[] {
  const subnets = server.addresses.filter((a) => a.includes('/'));
  const own = client.addresses.map(bareAddress);
  const near = own.filter((a) => subnets.some((n) => inNetwork(a, n)));
  if (near.length) return near;
  if (client.seenAs.length) return client.seenAs.map(bareAddress);
  return own;
}

/** A fleet host whose name is closest to `what`, for "did you mean". */
export function nearestHost(view: FleetView, what: string): string {
  const names = [...view.fleet.hosts.keys()];
  const ip = what.split('.').slice(0, 3).join('.');
  const byNet = [...view.fleet.hosts.values()].find((h) => h.addresses.some((a) => bareAddress(a).startsWith(`${ip}.`)));
  const byName = names.find((n) => n.startsWith(what.slice(0, 3)));
  const near = byNet?.name ?? byName;
  return near ? ` (the nearest fleet host is ${near})` : '';
}

/** A finding at a merged value of one host; its message names the other host's file and line. */
export function finding(m: MergedSpec, path: PathSegment[], message: string, severity: Diagnostic['severity']): Diagnostic {
  const at = originOf(m, path) ?? { file: m.hostFile.file.display, line: 1, col: 1 };
  return { ...at, message: at.file === m.hostFile.file.display ? message : `${message} (included by host ${m.host})`, severity };
}

/** FILE:LINE:COL of a merged value, for the message of a finding made at the other host. */
export function where(m: MergedSpec, path: PathSegment[]): string {
  const at = originOf(m, path);
  return at ? `${at.file}:${at.line}:${at.col}` : m.hostFile.file.display;
}
