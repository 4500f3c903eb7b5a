/**
 * Rollout slots (DESIGN §8.4 rules 2–6, 8): one record per (group, host) in Redis, granted,
 * renewed, moved between phases and given back by Lua scripts, so every decision (limit, fairness,
 * canary, halt) is one atomic step on the server's clock. Keys, for fleet F and group G:
 *   reconcile:F:rollout:G:slots         HASH host -> slot JSON (every phase counts against the limit)
 *   reconcile:F:rollout:G:leases        ZSET host -> lease expiry (ms, Redis time) of live phases
 *   reconcile:F:rollout:G:queue         ZSET host -> first request time: the fair queue
 *   reconcile:F:rollout:G:waiters       ZSET host -> waiter expiry: a dead waiter leaves the queue by itself
 *   reconcile:F:rollout:G:state         HASH halted, haltedAt, haltReason, paused, pausedReason, resumedAt
 *   reconcile:F:rollout:G:paused-hosts  HASH host -> reason
 *   reconcile:F:rollout:G:released      HASH host -> when a human last released its slot (ms)
 *   reconcile:F:rollout:G:fence         INCR counter: slot tokens
 *   reconcile:F:rollout:G:canary:C      HASH host -> running|passed, for commit C
 *   reconcile:F:rollout:G:wake:H        LIST a waiter blocks on (BLPOP); releases push to the queue's head
 *   reconcile:F:events                  STREAM of grants, releases, failures, human controls
 * Names are key parts: anything outside [A-Za-z0-9_.-] is %XX-encoded (so "a:b" cannot reach
 * another group's keys); the Lua side encodes the same way.
 */
import os from 'node:os';
import type { Redis } from 'ioredis';
import { defineScripts, type Script } from './lease.js';

export type SlotPhase = 'converging' | 'gating' | 'failed' | 'abandoned';

export interface Slot {
  host: string;
  commit: string;
  planDigest: string;
  phase: SlotPhase;
  /** Redis time (ms) of the last phase change. */
  since: number;
  /** maxParallel as its taker read it: a grant needs the count below the smallest stored. */
  limit: number;
  maxFailures: number;
  token: number;
  canary?: boolean;
}

export const EVENTS_MAXLEN = 100_000;

/** A name as a Redis key part: bytes outside [A-Za-z0-9_.-] become %XX. */
export function keyPart(name: string): string {
  let out = '';
  for (const b of Buffer.from(name, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_.-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function fleetPrefix(fleet: string): string {
  return `reconcile:${keyPart(fleet)}:`;
}

export function eventsKey(fleet: string): string {
  return `${fleetPrefix(fleet)}events`;
}

export interface GroupKeys {
  base: string;
  slots: string;
  leases: string;
  queue: string;
  waiters: string;
  state: string;
  pausedHosts: string;
  released: string;
  fence: string;
  events: string;
  /** Prefixes the scripts complete with an encoded commit or host. */
  canaryPrefix: string;
  wakePrefix: string;
}

export function groupKeys(fleet: string, group: string): GroupKeys {
  const base = `${fleetPrefix(fleet)}rollout:${keyPart(group)}`;
  return {
    base,
    slots: `${base}:slots`,
    leases: `${base}:leases`,
    queue: `${base}:queue`,
    waiters: `${base}:waiters`,
    state: `${base}:state`,
    pausedHosts: `${base}:paused-hosts`,
    released: `${base}:released`,
    fence: `${base}:fence`,
    events: eventsKey(fleet),
    canaryPrefix: `${base}:canary:`,
    wakePrefix: `${base}:wake:`,
  };
}

export const wakeKey = (k: GroupKeys, host: string) => `${k.wakePrefix}${keyPart(host)}`;

export interface FleetEvent {
  type: string;
  group?: string;
  host?: string;
  reason?: string;
  [field: string]: string | undefined;
}

/** "alice@web1": who a human control or a --no-rollout is recorded as (the invoking user, through sudo too). */
export function who(): string {
  let user = process.env.SUDO_USER || 'unknown';
  if (!process.env.SUDO_USER) {
    try {
      user = os.userInfo().username;
    } catch {
      user = String(process.getuid?.() ?? 'unknown'); // no passwd entry for this uid: still record the host
    }
  }
  return `${user}@${os.hostname()}`;
}

/** One entry on the fleet's capped event stream (type, group/host, who, reason, at); returns its id. */
export async function appendEvent(client: Redis, fleet: string, event: FleetEvent): Promise<string> {
  const fields: string[] = [];
  for (const [k, v] of Object.entries({ who: who(), ...event, at: new Date().toISOString() })) if (v !== undefined) fields.push(k, v);
  return (await client.xadd(eventsKey(fleet), 'MAXLEN', '~', String(EVENTS_MAXLEN), '*', ...fields)) as string;
}

// KEYS (all scripts): slots leases queue waiters state paused-hosts released fence events
const KEY_ORDER = ['slots', 'leases', 'queue', 'waiters', 'state', 'pausedHosts', 'released', 'fence', 'events'] as const;
const keysOf = (k: GroupKeys) => KEY_ORDER.map((n) => k[n]);

const LUA = `
local K_SLOTS, K_LEASES, K_QUEUE, K_WAITERS, K_STATE, K_PAUSED, K_RELEASED, K_FENCE, K_EVENTS = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function enc(s)
  return (string.gsub(s, '[^%w_%.%-]', function(c) return string.format('%%%02X', string.byte(c)) end))
end
-- Redis time as ISO 8601 (days to civil date, H. Hinnant), so events read like the CLI's.
local function iso(ms)
  local s = math.floor(ms / 1000)
  local z = math.floor(s / 86400) + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  local r = s % 86400
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d, math.floor(r / 3600), math.floor(r % 3600 / 60), r % 60, ms % 1000)
end
local function event(now, group, typ, host, extra)
  local f = {'type', typ, 'group', group, 'host', host}
  if extra then for i = 1, #extra do f[#f + 1] = extra[i] end end
  f[#f + 1] = 'at'; f[#f + 1] = iso(now)
  redis.call('XADD', K_EVENTS, 'MAXLEN', '~', ${EVENTS_MAXLEN}, '*', unpack(f))
end
local function slot_of(host)
  local raw = redis.call('HGET', K_SLOTS, host)
  if raw then return cjson.decode(raw) end
  return nil
end
local function put(s) redis.call('HSET', K_SLOTS, s.host, cjson.encode(s)) end
local function live(s) return s.phase == 'converging' or s.phase == 'gating' end
-- The smallest limit and maxFailures any holder read, and the failed + abandoned count.
local function tally(limit, maxf)
  local n, failed = 0, 0
  local vals = redis.call('HVALS', K_SLOTS)
  for i = 1, #vals do
    local s = cjson.decode(vals[i])
    n = n + 1
    if s.limit and s.limit < limit then limit = s.limit end
    if s.maxFailures and s.maxFailures < maxf then maxf = s.maxFailures end
    if s.phase == 'failed' or s.phase == 'abandoned' then failed = failed + 1 end
  end
  return n, limit, maxf, failed
end
-- Halts latch: once failed + abandoned reach maxFailures, only a resume clears them.
local function halt_check(now, group, limit, maxf)
  local _, _, m, failed = tally(limit, maxf)
  if failed >= m and redis.call('HGET', K_STATE, 'halted') ~= '1' then
    redis.call('HSET', K_STATE, 'halted', '1', 'haltedAt', now, 'haltReason', failed .. ' failed or abandoned slot(s), maxFailures ' .. m)
    event(now, group, 'halted', '', {'reason', failed .. ' failed or abandoned slot(s), maxFailures ' .. m})
  end
end
-- A live slot whose lease ran out was held by a process that died: abandoned, counted as failed.
local function sweep(now, group, limit, maxf)
  local dead = redis.call('ZRANGEBYSCORE', K_LEASES, '-inf', now)
  for i = 1, #dead do
    redis.call('ZREM', K_LEASES, dead[i])
    local s = slot_of(dead[i])
    if s and live(s) then
      s.phase = 'abandoned'; s.since = now
      put(s)
      event(now, group, 'abandoned', s.host, {'token', tostring(s.token)})
    end
  end
  local gone = redis.call('ZRANGEBYSCORE', K_WAITERS, '-inf', now)
  if #gone > 0 then
    redis.call('ZREM', K_WAITERS, unpack(gone))
    redis.call('ZREM', K_QUEUE, unpack(gone))
  end
  halt_check(now, group, limit, maxf)
end
-- Wake the first n live waiters (they BLPOP on their own list).
local function wake(wake_prefix, n)
  if n < 1 then return end
  local heads = redis.call('ZRANGE', K_QUEUE, 0, n - 1)
  for i = 1, #heads do
    local k = wake_prefix .. enc(heads[i])
    redis.call('LPUSH', k, '1')
    redis.call('PEXPIRE', k, 60000)
  end
end
-- A master whose run_id differs from the one the group last saw (a failover, or a restart that
-- may have lost slots) starts a settle period of one lease TTL + 2 s; returns its end (0: none).
local function new_master(now, group, run_id, ttl)
  if run_id == '' then return 0 end
  if redis.call('HGET', K_STATE, 'runId') ~= run_id then
    local settle = now + ttl + 2000
    redis.call('HSET', K_STATE, 'runId', run_id, 'settleUntil', settle)
    -- The leases here are the last ones replicated (and on another server's clock): a holder that
    -- kept renewing on the old master must not be swept as abandoned before it reaches this one.
    local held = redis.call('ZRANGE', K_LEASES, 0, -1)
    for i = 1, #held do redis.call('ZADD', K_LEASES, settle, held[i]) end
    event(now, group, 'new master', '', {'reason', 'run_id ' .. run_id})
  end
  return tonumber(redis.call('HGET', K_STATE, 'settleUntil') or '0')
end
local function free_after(limit, maxf)
  local n, l = tally(limit, maxf)
  return l - n
end
`;

const SCRIPTS = {
  // ARGV: group host commit planDigest limit maxFailures canary ttl canaryPrefix runId('' without Sentinel)
  grant: {
    keys: 9,
    lua: `${LUA}
local group, host, commit, plan = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local limit, maxf, canary, ttl = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local now = now_ms()
-- A new master first (its leases reset), then the sweep: stale leases are not dead holders.
local settle = new_master(now, group, ARGV[10], ttl)
sweep(now, group, limit, maxf)
redis.call('ZADD', K_QUEUE, 'NX', now, host)
redis.call('ZADD', K_WAITERS, now + ttl, host)
local pos = redis.call('ZRANK', K_QUEUE, host)
local st = redis.call('HMGET', K_STATE, 'halted', 'haltReason', 'paused', 'pausedReason')
if st[1] == '1' then return {0, 'halted', pos + 1, st[2] or ''} end
if st[3] == '1' then return {0, 'paused', pos + 1, st[4] or ''} end
local hp = redis.call('HGET', K_PAUSED, host)
if hp then return {0, 'host paused', pos + 1, hp} end
if now < settle then return {0, 'settling', pos + 1, 'a new Redis master: holders re-insert their slots until ' .. iso(settle)} end
local own = slot_of(host)
local is_canary = false
local ckey = ARGV[9] .. enc(commit)
if not own then
  local n, l = tally(limit, maxf)
  if n >= l then return {0, 'full', pos + 1, n .. ' of ' .. l .. ' slot(s) taken'} end
  if pos >= l - n then return {0, 'queued', pos + 1, (l - n) .. ' free slot(s), ' .. pos .. ' host(s) ahead'} end
  if canary > 0 then
    local cs = redis.call('HGETALL', ckey)
    local total, passed = #cs / 2, 0
    for i = 2, #cs, 2 do if cs[i] == 'passed' then passed = passed + 1 end end
    if passed < total then return {0, 'canary', pos + 1, 'waiting for ' .. (total - passed) .. ' canary host(s) at ' .. commit} end
    if total < canary then is_canary = true end
  end
end
local token = redis.call('INCR', K_FENCE)
local s = {host = host, commit = commit, planDigest = plan, phase = 'converging', since = now, limit = limit, maxFailures = maxf, token = token}
if is_canary or (own and own.canary and own.commit == commit) then s.canary = true end
if s.canary then
  redis.call('HSET', ckey, host, 'running')
  redis.call('PEXPIRE', ckey, 604800000)
end
put(s)
redis.call('ZADD', K_LEASES, now + ttl, host)
redis.call('ZREM', K_QUEUE, host)
redis.call('ZREM', K_WAITERS, host)
event(now, group, own and 'regrant' or 'grant', host, {'token', tostring(token), 'commit', commit})
return {1, token, cjson.encode(s), now}`,
  },
  // ARGV: group host token ttl extend(1|0) runId slotJson. Returns {held (1: ours and extended; 0: not ours
  // or no longer live), reinserted (1|0), overcommitted (the group's flag, 1|0), Redis time}.
  // After a failover the new master may lack a slot granted on the old one: within the settle
  // period its holder puts it back, and a group now above its limit is marked overcommitted.
  renew: {
    keys: 9,
    lua: `${LUA}
local group, host, ttl = ARGV[1], ARGV[2], tonumber(ARGV[4])
local now = now_ms()
local s = slot_of(host)
local settle = new_master(now, group, ARGV[6], ttl)
local reinserted = 0
if not s and now < settle and ARGV[7] ~= '' then
  reinserted = 1
  s = cjson.decode(ARGV[7])
  put(s)
  redis.call('ZADD', K_LEASES, now + ttl, host)
  event(now, group, 'reinserted', host, {'token', tostring(s.token)})
  local n, l = tally(s.limit, s.maxFailures)
  if n > l and redis.call('HGET', K_STATE, 'overcommitted') ~= '1' then
    redis.call('HSET', K_STATE, 'overcommitted', '1')
    event(now, group, 'overcommitted', '', {'reason', n .. ' slot(s) held, limit ' .. l})
  end
end
local over = redis.call('HGET', K_STATE, 'overcommitted') == '1' and 1 or 0
if not s or s.token ~= tonumber(ARGV[3]) or not live(s) then return {0, reinserted, over, now} end
local exp = redis.call('ZSCORE', K_LEASES, host)
if not exp or tonumber(exp) <= now then return {0, reinserted, over, now} end
if ARGV[5] == '1' then redis.call('ZADD', K_LEASES, 'XX', now + ttl, host) end
return {1, reinserted, over, now}`,
  },
  // ARGV: group host token phase(gating|failed) ttl reason canaryPrefix
  phase: {
    keys: 9,
    lua: `${LUA}
local group, host, phase = ARGV[1], ARGV[2], ARGV[4]
local s = slot_of(host)
if not s or s.token ~= tonumber(ARGV[3]) then return {0} end
local now = now_ms()
s.phase = phase; s.since = now
put(s)
if phase == 'gating' then
  redis.call('ZADD', K_LEASES, now + tonumber(ARGV[5]), host)
else
  redis.call('ZREM', K_LEASES, host)
  if s.canary then redis.call('HDEL', ARGV[7] .. enc(s.commit), host) end
  event(now, group, 'failed', host, {'token', tostring(s.token), 'reason', ARGV[6]})
  halt_check(now, group, s.limit, s.maxFailures)
end
return {1, now}`,
  },
  // ARGV: group host token canaryPrefix wakePrefix
  giveBack: {
    keys: 9,
    lua: `${LUA}
local group, host = ARGV[1], ARGV[2]
local s = slot_of(host)
if not s or s.token ~= tonumber(ARGV[3]) or not live(s) then return {0} end
local now = now_ms()
redis.call('HDEL', K_SLOTS, host)
redis.call('ZREM', K_LEASES, host)
if s.canary then redis.call('HSET', ARGV[4] .. enc(s.commit), host, 'passed') end
event(now, group, 'given back', host, {'token', tostring(s.token)})
if redis.call('HGET', K_STATE, 'overcommitted') == '1' and free_after(s.limit, s.maxFailures) >= 0 then redis.call('HDEL', K_STATE, 'overcommitted') end
wake(ARGV[5], math.max(free_after(s.limit, s.maxFailures), 1))
return {1, now}`,
  },
  // A waiter that gives up (deferred) leaves the queue. ARGV: host
  leave: {
    keys: 9,
    lua: `${LUA}
redis.call('ZREM', K_QUEUE, ARGV[1])
redis.call('ZREM', K_WAITERS, ARGV[1])
return 1`,
  },
  // The host's local failed mark, asserted again (Redis may have lost it): fail closed.
  // ARGV: group host failedAt commit limit maxFailures. Returns cleared|present|asserted.
  reassert: {
    keys: 9,
    lua: `${LUA}
local group, host, at = ARGV[1], ARGV[2], tonumber(ARGV[3])
local resumed = tonumber(redis.call('HGET', K_STATE, 'resumedAt') or '0')
local released = tonumber(redis.call('HGET', K_RELEASED, host) or '0')
if resumed > at or released > at then return 'cleared' end
if redis.call('HEXISTS', K_SLOTS, host) == 1 then return 'present' end
local now = now_ms()
put({host = host, commit = ARGV[4], planDigest = '', phase = 'failed', since = at, limit = tonumber(ARGV[5]), maxFailures = tonumber(ARGV[6]), token = 0, reasserted = true})
event(now, group, 'reasserted', host, {'reason', 'the host still records a failed slot'})
halt_check(now, group, tonumber(ARGV[5]), tonumber(ARGV[6]))
return 'asserted'`,
  },
  // Human controls. ARGV: group op host reason who wakePrefix
  //   pause|resume (host '' = the group), release (host '' = every slot of the group).
  control: {
    keys: 9,
    lua: `${LUA}
local group, op, host, reason, who = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now = now_ms()
local changed = 0
if op == 'pause' then
  if host == '' then changed = redis.call('HSET', K_STATE, 'paused', '1', 'pausedReason', reason)
  else changed = redis.call('HSET', K_PAUSED, host, reason) end
elseif op == 'resume' then
  if host == '' then
    changed = redis.call('HDEL', K_STATE, 'paused', 'pausedReason', 'halted', 'haltedAt', 'haltReason')
    redis.call('HSET', K_STATE, 'resumedAt', now)
    local all = redis.call('HGETALL', K_SLOTS)
    for i = 1, #all, 2 do
      local s = cjson.decode(all[i + 1])
      if not live(s) then redis.call('HDEL', K_SLOTS, all[i]); changed = changed + 1 end
    end
  else changed = redis.call('HDEL', K_PAUSED, host) end
elseif op == 'release' then
  local hosts = {}
  if host == '' then hosts = redis.call('HKEYS', K_SLOTS) else hosts = {host} end
  for i = 1, #hosts do
    changed = changed + redis.call('HDEL', K_SLOTS, hosts[i])
    redis.call('ZREM', K_LEASES, hosts[i])
    redis.call('HSET', K_RELEASED, hosts[i], now)
  end
else
  return redis.error_reply('unknown control ' .. op)
end
local f = {'who', who, 'reason', reason}
event(now, group, op, host, f)
wake(ARGV[6], math.max(free_after(1000000000, 1000000000), 1))
return changed`,
  },
  // Sweep, then everything a status needs. ARGV: group runId. On a master the group has not
  // seen yet no sweep: its leases are stale until a holder's script starts the settle period.
  inspect: {
    keys: 9,
    lua: `${LUA}
local now = now_ms()
if ARGV[2] == '' or redis.call('HGET', K_STATE, 'runId') == ARGV[2] then sweep(now, ARGV[1], 1000000000, 1000000000) end
return {redis.call('HGETALL', K_SLOTS), redis.call('HGETALL', K_STATE), redis.call('ZRANGE', K_QUEUE, 0, -1), redis.call('HGETALL', K_PAUSED), now}`,
  },
} satisfies Record<string, Script>;

type Scripts = ReturnType<typeof defineScripts<keyof typeof SCRIPTS>>;

export interface GrantRequest {
  host: string;
  commit: string;
  planDigest: string;
  limit: number;
  maxFailures: number;
  canary: number;
  ttlMs: number;
}

export type GrantResult =
  | { granted: true; slot: Slot; at: number; /** The master's run_id ('' without Sentinel). */ master: string }
  | { granted: false; why: 'halted' | 'paused' | 'host paused' | 'full' | 'queued' | 'canary' | 'settling' | 'unreplicated'; position: number; detail: string };

export interface RenewResult {
  held: boolean;
  master: string;
  /** The new master lacked our slot and took it back from us (settle period). */
  reinserted: boolean;
  /** The group is marked above its limit. */
  overcommitted: boolean;
  /** Redis time (ms). */
  at: number;
}

export interface GroupState {
  slots: Slot[];
  halted: boolean;
  /** More slots than the limit after a failover re-inserted them (rule 11). */
  overcommitted: boolean;
  haltReason?: string;
  paused: boolean;
  pausedReason?: string;
  resumedAt?: number;
  queue: string[];
  pausedHosts: Record<string, string>;
  now: number;
}

/** The slot scripts of one group on one connection. */
export class GroupSlots {
  readonly keys: GroupKeys;
  readonly #s: Scripts;

  /**
   * With Sentinel (`replicated`), every script carries the master's run_id, so a new master is
   * noticed (settle period), and a grant counts only once a replica acknowledged it (WAIT 1 500).
   */
  constructor(
    readonly client: Redis,
    readonly fleet: string,
    readonly group: string,
    readonly replicated = false,
  ) {
    this.keys = groupKeys(fleet, group);
    this.#s = defineScripts(client, SCRIPTS);
  }

  async #runId(): Promise<string> {
    if (!this.replicated) return '';
    return /^run_id:(\S+)/m.exec(await this.client.info('server'))?.[1] ?? '';
  }

  async grant(r: GrantRequest): Promise<GrantResult> {
    const k = this.keys;
    const runId = await this.#runId();
    let out: [number, number | string, string | number, string | number];
    try {
      out = (await this.#s.grant(...keysOf(k), this.group, r.host, r.commit, r.planDigest, r.limit, r.maxFailures, r.canary, r.ttlMs, k.canaryPrefix, runId)) as typeof out;
    } catch (e) {
      // min-replicas-to-write refused the script: a master cut off from its replicas, or one just
      // promoted whose replica has not attached yet. A refusal to wait out, like an unacknowledged grant.
      if (this.replicated && /^NOREPLICAS/.test((e as Error).message)) return { granted: false, why: 'unreplicated', position: 1, detail: 'the master has no replica in sync (NOREPLICAS)' };
      throw e;
    }
    if (out[0] === 1) {
      const slot = JSON.parse(String(out[2])) as Slot;
      // Asynchronous replication: a grant no replica has is one a failover can forget. Give it back and wait.
      if (this.replicated && Number(await this.client.wait(1, 500)) < 1) {
        // Refused too (NOREPLICAS): the record stays on a master that replicates nothing; its lease runs out.
        await this.giveBack(r.host, slot.token).catch(() => undefined);
        return { granted: false, why: 'unreplicated', position: 1, detail: 'no replica acknowledged the grant within 500 ms' };
      }
      return { granted: true, slot, at: Number(out[3]), master: runId };
    }
    return { granted: false, why: out[1] as Exclude<GrantResult, { granted: true }>['why'], position: Number(out[2]), detail: String(out[3]) };
  }

  /**
   * Extends our slot's lease (or only checks it, extend false); `slot` is put back after a failover
   * that lost it. `master` (the run_id, '' without Sentinel) lets the holder see that it moved.
   */
  async renew(slot: Slot, ttlMs: number, extend = true): Promise<RenewResult> {
    const runId = await this.#runId();
    const r = (await this.#s.renew(...keysOf(this.keys), this.group, slot.host, slot.token, ttlMs, extend ? 1 : 0, runId, runId ? JSON.stringify(slot) : '')) as number[];
    return { held: r[0] === 1, master: runId, reinserted: r[1] === 1, overcommitted: r[2] === 1, at: Number(r[3]) };
  }

  /** Moves our slot to gating (lease renewed) or failed (counts toward a halt). Redis time, or undefined when the slot is no longer ours. */
  async setPhase(host: string, token: number, phase: 'gating' | 'failed', ttlMs: number, reason = ''): Promise<number | undefined> {
    const r = (await this.#s.phase(...keysOf(this.keys), this.group, host, token, phase, ttlMs, reason, this.keys.canaryPrefix)) as number[];
    return r[0] === 1 ? Number(r[1]) : undefined;
  }

  async giveBack(host: string, token: number): Promise<number | undefined> {
    const r = (await this.#s.giveBack(...keysOf(this.keys), this.group, host, token, this.keys.canaryPrefix, this.keys.wakePrefix)) as number[];
    return r[0] === 1 ? Number(r[1]) : undefined;
  }

  async leave(host: string): Promise<void> {
    await this.#s.leave(...keysOf(this.keys), host);
  }

  async reassert(host: string, failedAt: number, commit: string, limit: number, maxFailures: number): Promise<'cleared' | 'present' | 'asserted'> {
    return (await this.#s.reassert(...keysOf(this.keys), this.group, host, failedAt, commit, limit, maxFailures)) as 'cleared' | 'present' | 'asserted';
  }

  /** pause/resume the group (host undefined) or one host in it; release one host's slot or every slot. Returns how many things changed. */
  async control(op: 'pause' | 'resume' | 'release', host: string | undefined, reason: string, by = who()): Promise<number> {
    return Number(await this.#s.control(...keysOf(this.keys), this.group, op, host ?? '', reason, by, this.keys.wakePrefix));
  }

  async inspect(): Promise<GroupState> {
    const [slots, state, queue, paused, now] = (await this.#s.inspect(...keysOf(this.keys), this.group, await this.#runId())) as [string[], string[], string[], string[], number];
    const st = pairs(state);
    return {
      slots: Object.values(pairs(slots)).map((v) => JSON.parse(v) as Slot),
      halted: st.halted === '1',
      overcommitted: st.overcommitted === '1',
      haltReason: st.haltReason,
      paused: st.paused === '1',
      pausedReason: st.pausedReason,
      resumedAt: st.resumedAt ? Number(st.resumedAt) : undefined,
      queue,
      pausedHosts: pairs(paused),
      now: Number(now),
    };
  }
}

function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}
