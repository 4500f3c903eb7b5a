/**
 * Removals run in reverse (DESIGN §8.4 rule 7): a host whose plan takes away what another fleet
 * host relied on runs after that host, which stops relying on it first (a client unmounts before
 * its export goes). Read from the plan, not from specs: the server cannot know the other host's
 * spec before this commit, but its own plan shows what it removes from the host as it is.
 *
 * What a plan can remove that another host relies on:
 *   exports[P] deleted                       -> every fleet host one of its clients admitted
 *   exports[P] updated, a client entry gone  -> the hosts that entry admitted and no kept entry does
 *   postgres.hba[KEY] updated to `reject`    -> the hosts the rule's address admits
 * The postgres kind never drops a role or a slot (DESIGN §5), so no plan removes one. Entries that
 * name no host (`*`, a netgroup, a DNS name that is none of a fleet host's names, hba `all`,
 * `samehost`, `samenet`) give no edge: which fleet hosts used them is not in the plan, and waiting
 * for every host of the fleet would stall the server on the whole fleet (review flags those).
 */
import type { Plan } from '../plan/types.js';
import { ownLinesText } from '../plan/filediff.js';
import { parseExports, type ExportClient } from '../resources/exports/parse.js';
import { A, toRule } from '../resources/postgres/risk.js';
import type { PostgresSpec } from '../spec/types.js';
import type { Fleet, FleetHost } from './inventory.js';
import type { AfterEdge } from './after.js';
import { addressesSeenBy } from './checks/view.js';
import { clientMatches } from './checks/nfs.js';
import { inNetwork, parseIp } from './checks/net.js';

type PlanPart = Pick<Plan, 'changes' | 'files'>;

/** The fleet hosts `self`'s plan takes something from, each once, with the first reason. */
export function removalEdges(fleet: Fleet, self: FleetHost, plan: PlanPart, spec: unknown): AfterEdge[] {
  const out = new Map<string, AfterEdge>();
  const others = [...fleet.hosts.values()].filter((h) => h.name !== self.name);
  const add = (y: FleetHost, because: string) => out.has(y.name) || out.set(y.name, { host: y.name, because });
  for (const c of plan.changes) {
    if (c.kind === 'exports' && (c.action === 'delete' || c.action === 'update' || c.action === 'replace')) {
      const { gone, kept } = exportClientsGone(plan, c.address);
      for (const y of others) {
        const seen = addressesSeenBy(y, self);
        const names = [y.name, ...y.names].map((n) => n.toLowerCase());
        const admits = (e: ExportClient) => e.host !== '*' && clientMatches(e.host, seen, names) === true;
        const lost = gone.find(admits);
        if (lost && !kept.some(admits)) add(y, `${c.address} ${c.action === 'delete' ? 'is removed' : `loses client ${lost.host}`}: ${y.name} stops using it first`);
      }
    }
    if (c.kind === 'postgres' && c.action === 'update' && c.address.startsWith('postgres.hba[')) {
      const rule = hbaRules(spec).find((r) => A.hba(r) === c.address);
      if (rule?.method !== 'reject' || !rule.address) continue;
      for (const y of others) {
        if (hbaAddressAdmits(rule.address, rule.mask, addressesSeenBy(y, self), [y.name, ...y.names])) add(y, `${c.address} becomes reject: ${y.name} stops using it first`);
      }
    }
  }
  return [...out.values()];
}

/** The client entries of an export the plan takes away, and those it keeps, from the lines it removes and writes. */
function exportClientsGone(plan: PlanPart, address: string): { gone: ExportClient[]; kept: ExportClient[] } {
  const file = plan.files?.find((f) => f.lines[address]);
  if (!file) return { gone: [], kept: [] };
  const { removed, added } = ownLinesText(file, address);
  const clients = (lines: string[]) => parseExports(lines.map((l) => `${l}\n`).join('')).flatMap((l) => l.entry?.clients ?? []);
  const before = clients(removed);
  const kept = clients(added);
  return { gone: before.filter((b) => !kept.some((k) => k.host === b.host)), kept };
}

function hbaRules(spec: unknown): ReturnType<typeof toRule>[] {
  const hba = (spec as { postgres?: PostgresSpec } | null)?.postgres?.hba;
  return Array.isArray(hba) ? hba.map(toRule) : [];
}

/**
 * Whether a pg_hba.conf address field names one of these addresses or names: a CIDR, an address
 * and its mask, a host name or a `.suffix`; `all`, `samehost` and `samenet` name no one host.
 */
function hbaAddressAdmits(address: string, mask: string | undefined, addresses: string[], names: string[]): boolean {
  if (['all', 'samehost', 'samenet'].includes(address)) return false;
  const lower = names.map((n) => n.toLowerCase());
  if (address.includes('/') || mask) return addresses.some((a) => inNetwork(a, mask ? `${address}/${mask}` : address));
  if (parseIp(address)) return addresses.includes(address);
  const a = address.toLowerCase();
  return a.startsWith('.') ? lower.some((n) => n.endsWith(a)) : lower.includes(a);
}
