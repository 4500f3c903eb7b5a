/**
 * Order between hosts (DESIGN §8.4 rule 7): before any step, a host waits while a host it runs
 * after has pending changes at this commit, i.e. that host's merged spec here differs from the
 * last spec it converged on. Waiting blocks on the status announcements (pub/sub), not a poll.
 */
import type { Redis } from 'ioredis';
import { UserError } from '../errors.js';
import type { Fleet, FleetHost } from './inventory.js';
import { mergedSpecDigest, type HostFleetContext } from './context.js';
import { mergeContext, mergeHost, type MergeContext } from './merge.js';
import { fleetKeys } from './status/keys.js';
import { appendStatusEvent, parseStored } from './status/store.js';
import { bareAddress } from './checks/net.js';
import { removalEdges } from './removals.js';
import type { Plan } from '../plan/types.js';

/** An apply that changed nothing because a host it runs after did not converge in time. */
export class BlockedError extends UserError {
  constructor(
    message: string,
    readonly blockedBy: string,
  ) {
    super(message);
  }
}

export interface AfterEdge {
  host: string;
  /** Why: `after:` in fleet.yaml, or the derived relation. */
  because: string;
}

/** The host this address or name belongs to. */
function hostByAddress(fleet: Fleet, who: string): FleetHost | undefined {
  const bare = bareAddress(who.replace(/^\[|\]$/g, ''));
  // Host names are case-insensitive, as the checks between hosts read them.
  const name = who.toLowerCase();
  return [...fleet.hosts.values()].find((h) => h.name.toLowerCase() === name || h.names.some((n) => n.toLowerCase() === name) || h.addresses.some((a) => bareAddress(a) === bare));
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Edges derived from the merged spec: a standby after its primary, an NFS mount after the host
 * exporting it, migrations after the primary they name. A derived edge that would close a cycle with the declared ones is left out: the
 * declared order wins.
 */
export function derivedEdges(fleet: Fleet, self: FleetHost, spec: unknown): AfterEdge[] {
  const out: AfterEdge[] = [];
  if (!isMap(spec)) return out;
  const pg = spec.postgres;
  if (isMap(pg) && pg.role === 'standby' && isMap(pg.primary) && typeof pg.primary.host === 'string') {
    const y = hostByAddress(fleet, pg.primary.host);
    if (y) out.push({ host: y.name, because: 'standby after its primary' });
  }
  for (const m of Array.isArray(spec.mounts) ? spec.mounts : []) {
    if (!isMap(m) || typeof m.source !== 'string' || !/^nfs4?$/.test(String(m.type ?? ''))) continue;
    // A mount on its way out needs no export: it runs before the export's removal, not after it.
    if (m.state === 'absent' || m.state === 'unmounted') continue;
    const server = /^(\[[^\]]+\]|[^:]+):/.exec(m.source)?.[1];
    const y = server ? hostByAddress(fleet, server) : undefined;
    if (y) out.push({ host: y.name, because: `mount ${String(m.path)} after its export` });
  }
  // Named without secrets since §8.3's checks (`server: HOST`): a schema change waits for the primary's own changes.
  for (const m of Array.isArray(spec.migrations) ? spec.migrations : []) {
    const y = isMap(m) && typeof m.server === 'string' ? hostByAddress(fleet, m.server) : undefined;
    if (y) out.push({ host: y.name, because: 'migrations after their primary' });
  }
  return out.filter((e) => e.host !== self.name && !reaches(fleet, e.host, self.name));
}

/** Whether `from` runs after `to`, directly or through others (declared edges). */
function reaches(fleet: Fleet, from: string, to: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const x = stack.pop()!;
    if (x === to) return true;
    for (const y of fleet.hosts.get(x)?.after ?? []) if (!seen.has(y)) seen.add(y), stack.push(y);
  }
  return false;
}

/** What the reverse edges of removals are read from: the plan about to run, and the other hosts' merged specs. */
export interface RemovalsInput {
  plan: Pick<Plan, 'changes' | 'files'>;
  /** A fleet host's merged spec in this checkout (its own derived edges may already point here). */
  specOf: (host: FleetHost) => unknown;
}

/**
 * Edges the plan adds: this host runs after the hosts it takes something from. One that would
 * close a cycle (the other host runs after this one, declared or derived from its spec) is left
 * out as derived edges are: the other order is the one both hosts can see.
 */
export function reverseEdges(fleet: Fleet, self: FleetHost, spec: unknown, r: RemovalsInput): AfterEdge[] {
  return removalEdges(fleet, self, r.plan, spec).filter((e) => {
    const y = fleet.hosts.get(e.host);
    return y && !reaches(fleet, e.host, self.name) && !derivedEdges(fleet, y, r.specOf(y)).some((d) => d.host === self.name);
  });
}

export function afterEdges(ctx: HostFleetContext, spec: unknown, removals?: RemovalsInput): AfterEdge[] {
  const edges = [
    ...ctx.host.after.map((h) => ({ host: h, because: 'after: in fleet.yaml' })),
    ...derivedEdges(ctx.fleet, ctx.host, spec),
    ...(removals ? reverseEdges(ctx.fleet, ctx.host, spec, removals) : []),
  ];
  const byHost = new Map<string, AfterEdge>();
  for (const e of edges) if (!byHost.has(e.host)) byHost.set(e.host, e);
  return [...byHost.values()];
}

/** Each upstream's merged spec digest in this checkout: what its last convergence must equal. */
export function upstreamDigests(fleet: Fleet, edges: AfterEdge[], mctx: MergeContext = mergeContext(fleet.root, fleet)): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of edges) {
    const y = fleet.hosts.get(e.host);
    if (y) out.set(e.host, mergedSpecDigest(mergeHost(y.spec, mctx, y).value));
  }
  return out;
}

export interface AfterWait {
  client: Redis;
  /** A second connection for SUBSCRIBE (a subscribed connection runs no other command). */
  subscriber: Redis;
  fleet: string;
  self: string;
  edges: AfterEdge[];
  digests: Map<string, string>;
  timeoutMs: number;
  /**
   * Whether an upstream that converged at `commit` (on another spec than this checkout's) is
   * ahead of this host's commit: then its changes at this commit are made or superseded, and
   * waiting for it to converge on an older spec would only time out.
   */
  convergedAhead?: (commit: string) => Promise<boolean>;
  signal?: AbortSignal;
  /** Told once when the host starts waiting, with the hosts it waits for. */
  onWait?: (pending: string[]) => void;
}

/** Safety net only: a missed announcement (a reconnect) is caught up this often. */
const RECHECK_MS = 30_000;

/**
 * Returns once no upstream has pending changes (or a `fleet unblock` let this host go once);
 * throws BlockedError after the timeout, having changed nothing.
 */
export async function waitForUpstreams(w: AfterWait): Promise<{ waitedMs: number; unblocked?: string }> {
  const k = fleetKeys(w.fleet);
  const started = Date.now();
  const deadline = started + w.timeoutMs;
  let wake: (() => void) | undefined;
  const onMessage = (channel: string, host: string) => {
    if (channel === k.channel && (host === w.self || w.digests.has(host))) wake?.();
  };
  w.subscriber.on('message', onMessage);
  // Subscribed before the first read: an announcement between the read and the wait is not lost.
  await w.subscriber.subscribe(k.channel);
  let told = false;
  try {
    for (;;) {
      const p = w.client.multi().get(k.unblock(w.self)).del(k.unblock(w.self));
      for (const e of w.edges) p.hgetall(k.status(e.host));
      const out = (await p.exec()) ?? [];
      const failed = out.find(([e]) => e);
      if (failed) throw failed[0];
      const unblock = out[0]?.[1] as string | null;
      if (unblock) {
        await appendStatusEvent(w.client, w.fleet, { event: 'unblock-used', host: w.self, unblock });
        return { waitedMs: Date.now() - started, unblocked: unblock };
      }
      const pending: string[] = [];
      for (const [i, e] of w.edges.entries()) {
        const last = parseStored(out[i + 2]?.[1] as Record<string, string>)?.record?.lastConverged;
        if (last?.specDigest === w.digests.get(e.host)) continue;
        if (last?.commit && (await w.convergedAhead?.(last.commit))) continue;
        pending.push(e.host);
      }
      if (!pending.length) return { waitedMs: Date.now() - started };
      if (!told) w.onWait?.(pending), (told = true);
      const left = deadline - Date.now();
      if (left <= 0 || w.signal?.aborted) {
        const why = `after ${pending.join(', ')}`;
        throw new BlockedError(
          w.signal?.aborted
            ? `interrupted while waiting: blocked: ${why}; nothing was changed`
            : `blocked: ${why}: ${pending.length > 1 ? 'they have' : 'it has'} pending changes at this commit and did not converge within afterTimeout (${Math.round(w.timeoutMs / 1000)}s); nothing was changed (fleet unblock ${w.self} --reason … lets this host go once)`,
          why,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, RECHECK_MS));
        const stop = () => {
          clearTimeout(t);
          w.signal?.removeEventListener('abort', stop);
          resolve();
        };
        wake = stop;
        w.signal?.addEventListener('abort', stop, { once: true });
      });
      wake = undefined;
    }
  } finally {
    w.subscriber.off('message', onMessage);
    await w.subscriber.unsubscribe(k.channel).catch(() => undefined);
  }
}
