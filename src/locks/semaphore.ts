/**
 * Redis counting semaphore: at most `limit` leases at once, fleet-wide.
 *   <base>:holders  ZSET lease id -> expiry (server ms); expired leases are purged on every acquire
 *   <base>:info     HASH lease id -> holder record
 *   <base>:fence    INCR counter
 */
import { openRedis } from './connection.js';
import { defineScripts, holderRecord, LUA_HELPERS, newLeaseId, RedisLease, SET_LEASE_SCRIPTS, type Script } from './lease.js';
import { checkTtl, DEFAULT_KEY_PREFIX, type RedisLockOptions } from './redis.js';
import {
  describeHolder,
  formatWait,
  LockBusyError,
  parseHolder,
  type AcquireOptions,
  type HeldBy,
  type HostLock,
} from './types.js';
import { acquireWithWait, type Attempt } from './wait.js';

const SEM_SCRIPTS = {
  // KEYS: holders, info, fence. ARGV: id, ttl, record, limit.
  acquire: {
    keys: 3,
    lua: `${LUA_HELPERS}
expect_type(KEYS[1], 'zset'); expect_type(KEYS[2], 'hash'); expect_counter(KEYS[3])
local now = now_ms()
purge(KEYS[1], KEYS[2], now)
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[4]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local soonest = first[2] and math.max(0, tonumber(first[2]) - now) or 0
  return {0, first[1] and redis.call('HGET', KEYS[2], first[1]) or false, soonest, n}
end
local token = redis.call('INCR', KEYS[3])
local value = with_token(ARGV[3], token)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], value)
expire_with_leases(KEYS[1], KEYS[2])
return {1, token, value}`,
  },
} satisfies Record<string, Script>;

export interface Semaphore extends HostLock {
  readonly key: string;
  readonly limit: number;
  /** Live holders (for diagnostics). */
  holders(): Promise<HeldBy[]>;
}

/** e.g. `createRedisSemaphore(url, {ttlMs, name: 'restart:web', limit: 2})` → `reconcile:sem:restart:web`. */
export function createRedisSemaphore(url: string, opts: RedisLockOptions & { name: string; limit: number }): Semaphore {
  checkTtl(opts.ttlMs);
  if (!Number.isInteger(opts.limit) || opts.limit < 1) throw new RangeError(`semaphore limit must be a positive integer, got ${opts.limit}`);
  const base = `${opts.keyPrefix ?? DEFAULT_KEY_PREFIX}sem:${opts.name}`;
  const k = { holders: `${base}:holders`, info: `${base}:info`, fence: `${base}:fence` };
  const label = `semaphore ${base} (limit ${opts.limit})`;

  return {
    key: base,
    limit: opts.limit,
    async acquire({ waitMs, holder, signal, ...observe }: AcquireOptions) {
      const conn = await openRedis(url, opts);
      try {
        const s = defineScripts(conn.client, { ...SEM_SCRIPTS, ...SET_LEASE_SCRIPTS });
        const id = newLeaseId();
        const got = await acquireWithWait(waitMs, signal, async (): Promise<Attempt<{ token: number; sentAt: number }>> => {
          const sentAt = performance.now();
          const r = (await s.acquire(k.holders, k.info, k.fence, id, opts.ttlMs, holderRecord(id, holder), opts.limit).catch((e) => {
            throw conn.fail(e, base);
          })) as [number, string | number | null, number, number?];
          if (r[0] === 1) return { ok: true, value: { token: Number(r[1]), sentAt } };
          const h = parseHolder(r[1] as string | null);
          return {
            ok: false,
            holder: h,
            retryInMs: Number(r[2]),
            held: `${label} is full: ${r[3]} holder(s), the oldest ${describeHolder(h)}`,
            busy: (waited) =>
              new LockBusyError(
                `${label} is full: ${r[3]} holder(s), the oldest ${describeHolder(h)}; ${formatWait(waited)}`,
                base,
                h,
                waited,
              ),
          };
        }, observe);
        return new RedisLease(
          k.holders,
          got.token,
          conn,
          {
            extend: async () => (await s.extend(k.holders, k.info, id, opts.ttlMs)) === 1,
            check: async () => (await s.check(k.holders, k.info, id)) === 1,
            release: async () => void (await s.release(k.holders, k.info, id)),
          },
          { ttlMs: opts.ttlMs, keepAlive: opts.keepAlive, label },
          got.sentAt,
        );
      } catch (err) {
        await conn.close();
        throw err;
      }
    },
    async holders() {
      const conn = await openRedis(url, opts);
      try {
        const [sec, usec] = await conn.client.time();
        const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
        const live = await conn.client.zrangebyscore(k.holders, now, '+inf');
        const info = live.length ? await conn.client.hmget(k.info, ...live) : [];
        return info.map((v) => parseHolder(v)).filter((h): h is HeldBy => h !== undefined);
      } catch (e) {
        throw conn.fail(e, base);
      } finally {
        await conn.close();
      }
    },
  };
}
