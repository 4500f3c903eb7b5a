/**
 * An apply's part in its fleet's rollouts (DESIGN §8.4): after the re-plan under the host lock, a
 * plan whose worst risk reaches a group's gate takes one slot in each such group, in group-name
 * order, before any step and before resource locks; the slots are given back only after the
 * re-observation proved convergence and the health gate passed. The slot records and every
 * decision about them live in Redis (src/locks/slots.ts); this module is the apply's side: waiting
 * in the fair queue, keep-alive, the journal, and the failed mark the host keeps for itself.
 */
import { UserError } from '../errors.js';
import { parseDuration } from '../duration.js';
import { fleetContextFor, slotLimit, type HostFleetContext, type RolloutGroup } from '../fleet/context.js';
import type { Host } from '../host/host.js';
import { openRedis, type Connection, type RedisTarget } from '../locks/connection.js';
import { RedisLease } from '../locks/lease.js';
import { appendEvent, GroupSlots, wakeKey, who, type GrantResult, type Slot } from '../locks/slots.js';
import { LockBackendError, type LockHandle } from '../locks/types.js';
import { RISKS, maxRisk, type Plan } from '../plan/types.js';
import { fleetRedisTarget, type FleetRedisRef } from '../fleet/redis.js';
import type { HostSpec } from '../spec/types.js';
import { healthGate, type HealthConfig } from './health.js';
import type { Journal } from './journal.js';
import { STATE_DIR } from './state.js';

/** Where the host keeps its failed marks: they outlive Redis losing its data (rule 5, fail closed). */
export const ROLLOUT_STATE_FILE = `${STATE_DIR}/rollout.json`;
const DEFAULT_TTL_MS = 10_000;

interface FailedMark {
  /** Redis time (ms) the slot failed. */
  at: number;
  commit: string;
  reason: string;
}

interface RolloutState {
  formatVersion: 1;
  failed: Record<string, FailedMark>;
}

/** Apply exits 2 with this: the slot did not come within rollout.wait. */
export class RolloutDeferred extends UserError {
  constructor(
    readonly group: string,
    readonly position: number,
    readonly why: string,
    detail: string,
  ) {
    super(`deferred, queued #${position} in rollout group ${group} (${why}${detail ? `: ${detail}` : ''}); nothing was changed`);
  }
}

export interface RolloutOptions {
  signal?: AbortSignal;
  /** `apply --no-rollout --reason TEXT`: no slot, recorded. */
  noRollout?: { reason: string };
}

export interface RolloutEntry {
  event: string;
  [k: string]: unknown;
}

interface Held {
  group: RolloutGroup;
  slots: GroupSlots;
  conn: Connection;
  slot: Slot;
  lease: RedisLease;
  ttlMs: number;
  /** What the keep-alive saw of a failover (a new master, an overcommitted group), for the journal. */
  notices: RolloutEntry[];
}

/**
 * The slots an apply holds (none when the plan stays below every gate). `handles` go with the
 * host lock into the applier's stop check, so a lost slot stops the apply at the next step.
 */
export class RolloutHold {
  #started = false;
  #settled = false;
  readonly #pending: RolloutEntry[] = [];

  constructor(
    readonly ctx: HostFleetContext | undefined,
    readonly held: Held[],
    readonly host: Host,
    readonly commit: string,
    entries: RolloutEntry[],
  ) {
    this.#pending.push(...entries);
  }

  get handles(): LockHandle[] {
    return this.held.map((h) => h.lease);
  }

  /** The journal is open: what happened before it (slots taken, reasserted, skipped) goes in first. */
  async opened(journal: Journal): Promise<void> {
    this.#started = true;
    for (const e of this.#pending.splice(0)) await journal.record(e);
    await this.#recordNotices(journal);
  }

  async #recordNotices(journal: Journal): Promise<void> {
    for (const h of this.held) for (const e of h.notices.splice(0)) await journal.record(e);
  }

  /**
   * After the re-observation: a converged host runs the health gate (skipped under --root) and
   * gives its slots back; otherwise, or when a lease was lost, its slots are marked failed.
   * Returns why the apply fails on the rollout's account, if it does.
   */
  async settle(journal: Journal, outcome: { ok: boolean; why?: string; plan: Plan; spec: HostSpec }): Promise<string | undefined> {
    this.#settled = true;
    if (!this.held.length) return undefined;
    await this.#recordNotices(journal);
    let why: string | undefined;
    const lost = this.held.filter((h) => h.lease.lost);
    for (const h of lost) {
      await journal.record({ event: 'rollout-lost', group: h.group.name, token: h.slot.token, reason: h.lease.lostReason });
      why ??= `the rollout slot of group ${h.group.name} was lost: ${h.lease.lostReason}`;
    }
    if (outcome.ok && !why) {
      for (const h of this.held) await h.slots.setPhase(h.slot.host, h.slot.token, 'gating', h.ttlMs).catch(() => undefined);
      if (this.host.offline) await journal.record({ event: 'rollout', slot: 'health gate', status: 'skipped (offline root)' });
      else {
        const failed = await healthGate(this.host, outcome.plan, outcome.spec, healthOf(this.held.map((h) => h.group)));
        await journal.record({ event: 'rollout', slot: 'health gate', status: failed ? 'failed' : 'passed', ...(failed ? { error: failed } : {}) });
        if (failed) why = `health gate: ${failed}`;
      }
      const stillLost = this.held.find((h) => h.lease.lost);
      if (stillLost && !why) {
        await journal.record({ event: 'rollout-lost', group: stillLost.group.name, token: stillLost.slot.token, reason: stillLost.lease.lostReason });
        why = `the rollout slot of group ${stillLost.group.name} was lost: ${stillLost.lease.lostReason}`;
      }
    }
    const reason = why ?? outcome.why ?? 'apply failed';
    const marks = await readMarks(this.host);
    for (const h of [...this.held].reverse()) {
      if (outcome.ok && !why) {
        const at = await h.slots.giveBack(h.slot.host, h.slot.token).catch(() => undefined);
        if (at !== undefined) {
          await journal.record({ event: 'rollout', group: h.group.name, slot: 'given back', token: h.slot.token, at: new Date(at).toISOString() });
          delete marks.failed[h.group.name];
          continue;
        }
        why ??= `the rollout slot of group ${h.group.name} was no longer ours when it was to be given back`;
      }
      const at = await h.slots.setPhase(h.slot.host, h.slot.token, 'failed', h.ttlMs, why ?? reason).catch(() => undefined);
      await journal.record({ event: 'rollout', group: h.group.name, slot: 'failed', token: h.slot.token, at: new Date(at ?? Date.now()).toISOString(), reason: why ?? reason });
      marks.failed[h.group.name] = { at: at ?? Date.now(), commit: this.commit, reason: why ?? reason };
    }
    await writeMarks(this.host, marks);
    return why;
  }

  /** Stops keep-alives and closes connections. A hold given up before any step gives its slots back; one that ran steps unsettled fails them. */
  async close(): Promise<void> {
    for (const h of this.held) {
      if (!this.#settled) {
        if (this.#started) await h.slots.setPhase(h.slot.host, h.slot.token, 'failed', h.ttlMs, 'the apply ended before it settled its slot').catch(() => undefined);
        else await h.slots.giveBack(h.slot.host, h.slot.token).catch(() => undefined);
      }
      await h.lease.release();
    }
  }
}

/** Which of the host's groups a plan must take a slot in: those whose gate its worst risk reaches. */
export function gatedGroups(groups: RolloutGroup[], plan: Plan): RolloutGroup[] {
  if (!plan.changes.length) return [];
  const worst = RISKS.indexOf(maxRisk(plan.changes.map((c) => c.risk)));
  return groups.filter((g) => worst >= RISKS.indexOf(g.rollout.gate));
}

/**
 * Take the plan's slots, waiting in each group's fair queue up to rollout.wait. Also re-asserts
 * the host's failed marks on every run (below the gate too, when Redis answers).
 * Throws RolloutDeferred (exit 2) after the wait, UserError when Redis cannot be used (exit 1,
 * nothing changed).
 */
export async function takeRolloutSlots(file: string, plan: Plan, host: Host, spec: HostSpec, opts: RolloutOptions = {}): Promise<RolloutHold> {
  const ctx = fleetContextFor(file);
  const commit = plan.spec.git?.commit ?? 'uncommitted';
  const ttlMs = (spec.lock?.ttl !== undefined ? parseDuration(spec.lock.ttl) : undefined) ?? DEFAULT_TTL_MS;
  if (!ctx || !ctx.groups.length) return new RolloutHold(ctx, [], host, commit, []);
  const groups = gatedGroups(ctx.groups, plan);
  const marks = await readMarks(host);
  const ref = (ctx.redis ?? spec.lock?.redis) as FleetRedisRef | undefined;
  const resolved = ref ? fleetRedisTarget(ref) : undefined;
  const target = resolved && 'target' in resolved ? resolved.target : undefined;
  const replicated = !!resolved && 'sentinel' in resolved && resolved.sentinel;

  if (opts.noRollout) {
    const entry = { event: 'rollout', slot: 'skipped', groups: groups.map((g) => g.name), reason: opts.noRollout.reason, who: who() };
    if (target) {
      // Recorded for the fleet too, when Redis answers: a human went around the rollout.
      const conn = await openRedis(target).catch(() => undefined);
      if (conn) {
        await appendEvent(conn.client, ctx.name, { type: 'no-rollout', host: ctx.host.name, reason: opts.noRollout.reason }).catch(() => undefined);
        await conn.close();
      }
    }
    return new RolloutHold(ctx, [], host, commit, [entry]);
  }
  const mustAssert = ctx.groups.filter((g) => marks.failed[g.name] && !groups.includes(g));
  if (!groups.length && !mustAssert.length) return new RolloutHold(ctx, [], host, commit, []);

  const needsRedis = (g: RolloutGroup) => `rollout group ${g.name} needs a slot`;
  if (!ref) {
    // A fleet without a Redis has nothing to coordinate through: its groups only share includes.
    const note = groups.length ? [{ event: 'rollout', slot: 'uncoordinated', groups: groups.map((g) => g.name), reason: 'the fleet names no redis' }] : [];
    return new RolloutHold(ctx, [], host, commit, note);
  }
  if (!target) throw new UserError(`${needsRedis(groups[0] ?? ctx.groups[0]!)} but the fleet's redis cannot be read (${resolved && 'error' in resolved ? resolved.error : 'no reference'}); nothing was changed`);

  const entries: RolloutEntry[] = [];
  // Below the gate: the marks are asserted when Redis answers, and the apply goes on when it does not.
  for (const g of mustAssert) {
    const conn = await openRedis(target).catch(() => undefined);
    if (!conn) break;
    try {
      await assertMark(new GroupSlots(conn.client, ctx.name, g.name, replicated), ctx, g, marks, entries);
    } catch {
      // reported by the next run that can reach Redis
    } finally {
      await conn.close();
    }
  }

  const held: Held[] = [];
  try {
    for (const g of groups) {
      const conn = await openRedis(target).catch((e: unknown) => {
        throw new UserError(`${needsRedis(g)}: ${(e as Error).message}; nothing was changed (apply --no-rollout --reason TEXT goes ahead without one)`);
      });
      try {
        const slots = new GroupSlots(conn.client, ctx.name, g.name, replicated);
        await assertMark(slots, ctx, g, marks, entries);
        const started = performance.now();
        const { slot, at, position, sentAt, master } = await waitForSlot(slots, conn, target, g, {
          host: ctx.host.name,
          commit,
          planDigest: plan.spec.sha256.slice(0, 12),
          limit: slotLimit(g),
          maxFailures: g.rollout.maxFailures,
          canary: g.rollout.canary,
          ttlMs,
        }, opts.signal);
        // Every keep-alive (ttl/3) says which master answered: a holder notices a failover, and an
        // overcommitted group, at its next one and journals it (rule 11).
        const notices: RolloutEntry[] = [];
        let seen = { master, overcommitted: false };
        const renew = async (extend: boolean) => {
          const r = await slots.renew(slot, ttlMs, extend);
          const base = { event: 'rollout', group: g.name, token: slot.token, held: r.held, at: new Date(r.at).toISOString() };
          if (r.master !== seen.master) notices.push({ ...base, slot: 'new master', reinserted: r.reinserted, overcommitted: r.overcommitted });
          else if (r.overcommitted !== seen.overcommitted) notices.push({ ...base, slot: r.overcommitted ? 'overcommitted' : 'no longer overcommitted' });
          seen = { master: r.master, overcommitted: r.overcommitted };
          return r.held;
        };
        const lease = new RedisLease(
          slots.keys.slots,
          slot.token,
          conn,
          { extend: () => renew(true), check: () => renew(false), release: async () => undefined },
          { ttlMs, label: `rollout slot of group ${g.name}` },
          sentAt,
        );
        held.push({ group: g, slots, conn, slot, lease, ttlMs, notices });
        entries.push({ event: 'rollout', group: g.name, slot: 'taken', token: slot.token, phase: slot.phase, ...(slot.canary ? { canary: true } : {}), queued: position, waitedMs: Math.round(performance.now() - started), at: new Date(at).toISOString() });
      } catch (e) {
        if (!held.some((h) => h.conn === conn)) await conn.close();
        throw e;
      }
    }
  } catch (e) {
    await new RolloutHold(ctx, held, host, commit, []).close();
    await writeMarks(host, marks);
    if (e instanceof UserError) throw e;
    if (e instanceof LockBackendError) throw new UserError(`rollout: ${e.message}; nothing was changed`);
    throw e;
  }
  await writeMarks(host, marks);
  return new RolloutHold(ctx, held, host, commit, entries);
}

async function assertMark(slots: GroupSlots, ctx: HostFleetContext, g: RolloutGroup, marks: RolloutState, entries: RolloutEntry[]): Promise<void> {
  const mark = marks.failed[g.name];
  if (!mark) return;
  const r = await slots.reassert(ctx.host.name, mark.at, mark.commit, slotLimit(g), g.rollout.maxFailures);
  if (r === 'cleared') delete marks.failed[g.name];
  else if (r === 'asserted') entries.push({ event: 'rollout', group: g.name, slot: 'reasserted failed', reason: mark.reason });
}

/**
 * The fair queue: ask, and while refused, block on this waiter's own wake list (pushed by every
 * give-back and human control) for at most a third of the lease, which also keeps our place alive.
 */
async function waitForSlot(
  slots: GroupSlots,
  conn: Connection,
  target: RedisTarget,
  g: RolloutGroup,
  req: Parameters<GroupSlots['grant']>[0],
  signal: AbortSignal | undefined,
): Promise<{ slot: Slot; at: number; position: number; sentAt: number; master: string }> {
  const waitMs = parseDuration(g.rollout.wait) ?? 300_000;
  const deadline = performance.now() + waitMs;
  const blockMs = Math.max(100, Math.floor(req.ttlMs / 3));
  let blocking: Connection | undefined;
  let first: number | undefined;
  const onAbort = () => blocking?.client.disconnect();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (signal?.aborted) throw new UserError(`interrupted (${String(signal.reason)}) while waiting for a rollout slot in group ${g.name}; nothing was changed`);
      let r: GrantResult;
      const sentAt = performance.now();
      try {
        r = await slots.grant(req);
      } catch (e) {
        throw conn.fail(e, slots.keys.base);
      }
      if (r.granted) return { slot: r.slot, at: r.at, position: first ?? 0, sentAt, master: r.master };
      first ??= r.position;
      const left = deadline - performance.now();
      if (left <= 0) {
        await slots.leave(req.host).catch(() => undefined);
        throw new RolloutDeferred(g.name, r.position, r.why, r.detail);
      }
      blocking ??= await openRedis(target, { commandTimeoutMs: blockMs + 5_000 });
      const waitMs = Math.min(left, blockMs);
      const secs = (waitMs / 1000).toFixed(3);
      await blocking.client.blpop(wakeKey(slots.keys, req.host), secs).catch(async (e: unknown) => {
        if (signal?.aborted) return;
        // BLPOP writes (it pops), so a master without a replica in sync refuses it as it refuses a
        // grant: wait as long as the wake-up would have, then ask again.
        if (/^NOREPLICAS/.test((e as Error).message)) return void (await new Promise((r) => setTimeout(r, waitMs)));
        throw blocking!.fail(e, slots.keys.base);
      });
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await blocking?.close();
  }
}

/** The health gate the host's groups ask for together: the longest stableFor and timeout, every command and URL. */
function healthOf(groups: RolloutGroup[]): HealthConfig {
  const hs = groups.map((g) => (g.rollout.health ?? {}) as HealthConfig);
  const longest = (k: 'stableFor' | 'timeout') => hs.map((h) => h[k]).filter((v): v is string => !!v).sort((a, b) => (parseDuration(b) ?? 0) - (parseDuration(a) ?? 0))[0];
  return {
    stableFor: longest('stableFor'),
    timeout: longest('timeout'),
    commands: hs.flatMap((h) => h.commands ?? (h.command ? [h.command] : [])),
    urls: hs.flatMap((h) => h.urls ?? (h.http ? [h.http] : [])),
  };
}

async function readMarks(host: Host): Promise<RolloutState> {
  const text = await host.readText(ROLLOUT_STATE_FILE).catch(() => null);
  if (text === null) return { formatVersion: 1, failed: {} };
  try {
    const v = JSON.parse(text) as Partial<RolloutState>;
    return { formatVersion: 1, failed: v.failed && typeof v.failed === 'object' ? v.failed : {} };
  } catch {
    throw new UserError(`${host.resolve(ROLLOUT_STATE_FILE)} is not valid JSON; it records this host's failed rollout slots: fix it, or remove it after fleet resume`);
  }
}

async function writeMarks(host: Host, marks: RolloutState): Promise<void> {
  const text = `${JSON.stringify(marks, null, 2)}\n`;
  const before = await host.readText(ROLLOUT_STATE_FILE).catch(() => null);
  if (before === text || (before === null && !Object.keys(marks.failed).length)) return;
  await host.writeFile(ROLLOUT_STATE_FILE, text, { mode: 0o600 });
}
