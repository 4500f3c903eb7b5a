/**
 * Machinery shared by the Redis mutex, read-write lock and semaphore: Lua script registration,
 * the holder record, and a lease handle with keep-alive and loss detection.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Connection } from './connection.js';
import { LockLostError, type HolderInfo, type LockHandle } from './types.js';

/** Lua run with numberOfKeys keys; registered per connection with defineCommand (EVALSHA, EVAL fallback). */
export interface Script {
  keys: number;
  lua: string;
}

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

export function defineScripts<N extends string>(client: Redis, scripts: Record<N, Script>): Record<N, ScriptFn> {
  const out = {} as Record<N, ScriptFn>;
  for (const [name, s] of Object.entries(scripts) as [N, Script][]) {
    const cmd = `reconcile_${name}`;
    if (!(cmd in client)) client.defineCommand(cmd, { numberOfKeys: s.keys, lua: s.lua });
    const fn = (client as unknown as Record<string, ScriptFn>)[cmd]!;
    out[name] = (...args) => fn.apply(client, args);
  }
  return out;
}

/**
 * Lua helpers prepended to scripts. Time comes from the Redis server (TIME) so lease expiry
 * in sorted sets does not depend on the clocks of the hosts taking the lock.
 */
export const LUA_HELPERS = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function expect_type(key, want)
  local t = redis.call('TYPE', key).ok
  if t ~= 'none' and t ~= want then
    error({err = 'WRONGTYPE ' .. key .. ' holds a ' .. t})
  end
end
-- A fencing counter must be an integer string; anything else is someone else's key.
local function expect_counter(key)
  expect_type(key, 'string')
  local v = redis.call('GET', key)
  if v and not string.match(v, '^%d+$') then
    error({err = 'WRONGTYPE ' .. key .. ' holds a non-integer string'})
  end
end
-- Drop members whose lease expired (a crashed holder frees its slot by itself).
local function purge(zset, info, now)
  local dead = redis.call('ZRANGEBYSCORE', zset, '-inf', now)
  if #dead > 0 then
    redis.call('ZREM', zset, unpack(dead))
    redis.call('HDEL', info, unpack(dead))
  end
end
-- The set and its info hash live as long as their longest lease, so nothing lingers forever.
local function expire_with_leases(zset, info)
  local top = redis.call('ZRANGE', zset, -1, -1, 'WITHSCORES')
  if top[2] then
    local at = math.ceil(tonumber(top[2]))
    redis.call('PEXPIREAT', zset, at)
    redis.call('PEXPIREAT', info, at)
  end
end
-- The stored record is the caller's JSON with the fencing token spliced in first.
local function with_token(json, token)
  return '{"token":' .. token .. ',' .. string.sub(json, 2)
end
`;

/** Scripts for a single-key lease (mutex, rwlock writer). KEYS[1] = lease key, ARGV[1] = our record. */
export const STRING_LEASE_SCRIPTS = {
  // KEYS: lease, fence. ARGV: record json (without token), ttl ms.
  acquire: {
    keys: 2,
    lua: `${LUA_HELPERS}
expect_type(KEYS[1], 'string')
expect_counter(KEYS[2])
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}
end
local token = redis.call('INCR', KEYS[2])
local value = with_token(ARGV[1], token)
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return {1, token, value}`,
  },
  extend: {
    keys: 1,
    lua: `
if redis.call('TYPE', KEYS[1]).ok == 'string' and redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`,
  },
  check: {
    keys: 1,
    lua: `
if redis.call('TYPE', KEYS[1]).ok == 'string' and redis.call('GET', KEYS[1]) == ARGV[1] then
  return 1
end
return 0`,
  },
  release: {
    keys: 1,
    lua: `
if redis.call('TYPE', KEYS[1]).ok == 'string' and redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`,
  },
} satisfies Record<string, Script>;

/** Scripts for a member lease in a sorted set (rwlock readers, semaphore). KEYS: zset, info hash. ARGV[1] = member id. */
export const SET_LEASE_SCRIPTS = {
  extend: {
    keys: 2,
    lua: `${LUA_HELPERS}
if redis.call('TYPE', KEYS[1]).ok ~= 'zset' then return 0 end
local now = now_ms()
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) > now then
  redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
  expire_with_leases(KEYS[1], KEYS[2])
  return 1
end
return 0`,
  },
  check: {
    keys: 2,
    lua: `${LUA_HELPERS}
if redis.call('TYPE', KEYS[1]).ok ~= 'zset' then return 0 end
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) > now_ms() then return 1 end
return 0`,
  },
  release: {
    keys: 2,
    lua: `
if redis.call('TYPE', KEYS[1]).ok ~= 'zset' then return 0 end
local n = redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('TYPE', KEYS[2]).ok == 'hash' then redis.call('HDEL', KEYS[2], ARGV[1]) end
return n`,
  },
} satisfies Record<string, Script>;

/** The JSON a lease stores: the holder plus a unique id, so only this acquisition matches it. */
export function holderRecord(id: string, holder: HolderInfo): string {
  const rec: Record<string, unknown> = { id, host: holder.host, pid: holder.pid };
  if (holder.plan !== undefined) rec.plan = holder.plan;
  rec.since = new Date().toISOString();
  return JSON.stringify(rec);
}

export function newLeaseId(): string {
  return randomUUID();
}

export interface LeaseOps {
  /** true = still ours and extended; false = gone or someone else's. Throws on transport errors. */
  extend(): Promise<boolean>;
  check(): Promise<boolean>;
  release(): Promise<void>;
}

export interface LeaseOptions {
  ttlMs: number;
  /** false only to simulate a crashed holder in tests. */
  keepAlive?: boolean;
  /** What the lock is, for messages: "host lock reconcile:host:web1". */
  label: string;
}

/**
 * A held lease. Keep-alive runs every ttl/3; one failed keep-alive is tolerated (the lease
 * still has two thirds of its TTL), but once a failure leaves no time for another try, or Redis
 * says the lease is not ours, the handle is lost for good.
 */
export class RedisLease implements LockHandle {
  #lostReason: string | undefined;
  #released = false;
  #ticking = false;
  #timer: NodeJS.Timeout | undefined;
  /** performance.now() at which the last successful grant/extend was *sent*: a safe lower bound. */
  #confirmedAt: number;
  readonly #interval: number;

  constructor(
    readonly key: string,
    readonly token: number,
    private readonly conn: Connection,
    private readonly ops: LeaseOps,
    private readonly opts: LeaseOptions,
    sentAt: number,
  ) {
    this.#confirmedAt = sentAt;
    this.#interval = Math.max(1, Math.floor(opts.ttlMs / 3));
    if (opts.keepAlive !== false) {
      this.#timer = setInterval(() => void this.#tick(), this.#interval);
      // The lease must not keep the process alive on its own.
      this.#timer.unref();
    }
  }

  get lost(): boolean {
    if (this.#lostReason !== undefined) return true;
    // Even if the timer could not run (blocked event loop), a lease past its TTL is not ours.
    if (!this.#released && performance.now() - this.#confirmedAt >= this.opts.ttlMs) {
      this.#markLost(`its ${this.opts.ttlMs} ms lease ran out without a keep-alive`);
      return true;
    }
    return false;
  }

  /** Why the lease was lost, when it was. */
  get lostReason(): string | undefined {
    return this.lost ? this.#lostReason : undefined;
  }

  async assertHeld(): Promise<void> {
    if (this.#released) throw this.#lostError('it was released');
    if (this.lost) throw this.#lostError(this.#lostReason!);
    let ok: boolean;
    try {
      ok = await this.ops.check();
    } catch (err) {
      this.#markLost(`cannot confirm it: ${this.conn.fail(err).message}`);
      throw this.#lostError(this.#lostReason!);
    }
    if (!ok) {
      this.#markLost('Redis no longer holds our lease (expired, deleted or taken over)');
      throw this.#lostError(this.#lostReason!);
    }
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.#stop();
    try {
      await this.ops.release();
    } catch {
      // Redis unreachable: the lease expires by itself within its TTL.
    }
    await this.conn.close();
  }

  async #tick(): Promise<void> {
    if (this.#ticking || this.#released || this.#lostReason !== undefined) return;
    this.#ticking = true;
    const sentAt = performance.now();
    try {
      const ok = await this.ops.extend();
      if (ok) this.#confirmedAt = sentAt;
      else this.#markLost('keep-alive found the lease gone (expired, deleted or taken over)');
    } catch (err) {
      if (performance.now() + this.#interval >= this.#confirmedAt + this.opts.ttlMs) {
        this.#markLost(`keep-alive failed: ${this.conn.fail(err).message}`);
      }
    } finally {
      this.#ticking = false;
    }
  }

  #markLost(reason: string): void {
    if (this.#lostReason !== undefined) return;
    this.#lostReason = reason;
    this.#stop();
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #lostError(reason: string): LockLostError {
    return new LockLostError(`lost the ${this.opts.label} (fencing token ${this.token}): ${reason}`, this.key, this.token);
  }
}
