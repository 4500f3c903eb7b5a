/**
 * Redis read-write lock with leases on both sides.
 *   <base>:readers   ZSET reader id -> lease expiry (server ms); expired members are purged on every call
 *   <base>:readinfo  HASH reader id -> holder record (to name readers in contention messages)
 *   <base>:writer    STRING writer record, PX ttl
 *   <base>:intent    STRING record of the first waiting writer, PX ttl: blocks new readers so a
 *                    stream of readers cannot starve it; expires if that writer dies while waiting
 *   <base>:fence     INCR counter shared by readers and writers
 */
import { openRedis } from './connection.js';
import {
  defineScripts,
  holderRecord,
  LUA_HELPERS,
  newLeaseId,
  RedisLease,
  SET_LEASE_SCRIPTS,
  STRING_LEASE_SCRIPTS,
  type Script,
} from './lease.js';
import { checkTtl, DEFAULT_KEY_PREFIX, type RedisLockOptions } from './redis.js';
import {
  describeHolder,
  formatWait,
  LockBusyError,
  parseHolder,
  type AcquireOptions,
  type HeldBy,
  type HostLock,
  type LockHandle,
} from './types.js';
import { acquireWithWait, type Attempt } from './wait.js';

const RW_SCRIPTS = {
  // KEYS: readers, readinfo, writer, intent, fence. ARGV: id, ttl, record.
  read: {
    keys: 5,
    lua: `${LUA_HELPERS}
expect_type(KEYS[1], 'zset'); expect_type(KEYS[2], 'hash')
expect_type(KEYS[3], 'string'); expect_type(KEYS[4], 'string'); expect_counter(KEYS[5])
local now = now_ms()
purge(KEYS[1], KEYS[2], now)
if redis.call('EXISTS', KEYS[3]) == 1 then
  return {0, 'writer', redis.call('GET', KEYS[3]), redis.call('PTTL', KEYS[3])}
end
if redis.call('EXISTS', KEYS[4]) == 1 then
  return {0, 'intent', redis.call('GET', KEYS[4]), redis.call('PTTL', KEYS[4])}
end
local token = redis.call('INCR', KEYS[5])
local value = with_token(ARGV[3], token)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], value)
expire_with_leases(KEYS[1], KEYS[2])
return {1, token, value}`,
  },
  // KEYS: readers, readinfo, writer, intent, fence. ARGV: id, ttl, record, intent record, intent ttl.
  write: {
    keys: 5,
    lua: `${LUA_HELPERS}
expect_type(KEYS[1], 'zset'); expect_type(KEYS[2], 'hash')
expect_type(KEYS[3], 'string'); expect_type(KEYS[4], 'string'); expect_counter(KEYS[5])
local now = now_ms()
purge(KEYS[1], KEYS[2], now)
if redis.call('EXISTS', KEYS[3]) == 1 then
  return {0, 'writer', redis.call('GET', KEYS[3]), redis.call('PTTL', KEYS[3])}
end
local intent = redis.call('GET', KEYS[4])
if intent and intent ~= ARGV[4] then
  return {0, 'intent', intent, redis.call('PTTL', KEYS[4])}
end
local readers = redis.call('ZCARD', KEYS[1])
if readers > 0 then
  -- Queue up: no new reader gets in while this intent lives.
  redis.call('SET', KEYS[4], ARGV[4], 'PX', ARGV[5])
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, 'readers', redis.call('HGET', KEYS[2], first[1]), math.max(0, tonumber(first[2]) - now), readers}
end
local token = redis.call('INCR', KEYS[5])
local value = with_token(ARGV[3], token)
redis.call('SET', KEYS[3], value, 'PX', ARGV[2])
if intent then redis.call('DEL', KEYS[4]) end
return {1, token, value}`,
  },
  // A writer that gives up withdraws its intent. KEYS: intent. ARGV: intent record.
  withdraw: {
    keys: 1,
    lua: `
if redis.call('TYPE', KEYS[1]).ok == 'string' and redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`,
  },
} satisfies Record<string, Script>;

export interface ReadWriteLock {
  readonly key: string;
  /** Shared: many readers at once, none while a writer holds or waits. */
  acquireRead(opts: AcquireOptions): Promise<LockHandle>;
  /** Exclusive: waits for readers to drain, blocking new ones meanwhile. */
  acquireWrite(opts: AcquireOptions): Promise<LockHandle>;
  /** The two sides as HostLocks, for code that only knows that interface. */
  readonly read: HostLock;
  readonly write: HostLock;
  /** Current holders: the writer, or the readers (for diagnostics). */
  holders(): Promise<{ writer: HeldBy | null; readers: HeldBy[]; waitingWriter: HeldBy | null }>;
}

/** A read-write lock for a shared resource, e.g. `createRedisRwLock(url, {ttlMs, name: 'pg:main'})` → `reconcile:rw:pg:main`. */
export function createRedisRwLock(url: string, opts: RedisLockOptions & { name: string }): ReadWriteLock {
  checkTtl(opts.ttlMs);
  const base = `${opts.keyPrefix ?? DEFAULT_KEY_PREFIX}rw:${opts.name}`;
  const k = {
    readers: `${base}:readers`,
    readinfo: `${base}:readinfo`,
    writer: `${base}:writer`,
    intent: `${base}:intent`,
    fence: `${base}:fence`,
  };
  const keys = [k.readers, k.readinfo, k.writer, k.intent, k.fence] as const;

  async function acquire(mode: 'read' | 'write', { waitMs, holder, signal, ...observe }: AcquireOptions): Promise<LockHandle> {
    const label = `${mode} lock ${base}`;
    const conn = await openRedis(url, opts);
    const id = newLeaseId();
    // Fixed for this call: it names the waiting writer to blocked readers, and "since" is when it began to wait.
    const intentRecord = holderRecord(id, holder);
    // The intent must outlive the gap between two polls (at most 1 s) but die soon after a crash.
    const intentTtl = Math.max(opts.ttlMs, 2000);
    try {
      const s = defineScripts(conn.client, { ...RW_SCRIPTS, ...prefixed('str_', STRING_LEASE_SCRIPTS), ...prefixed('set_', SET_LEASE_SCRIPTS) });
      const got = await acquireWithWait(waitMs, signal, async (): Promise<Attempt<{ token: number; value: string; sentAt: number }>> => {
        const sentAt = performance.now();
        const args =
          mode === 'read'
            ? [...keys, id, opts.ttlMs, holderRecord(id, holder)]
            : [...keys, id, opts.ttlMs, holderRecord(id, holder), intentRecord, intentTtl];
        const r = (await s[mode](...args).catch((e) => {
          throw conn.fail(e, base);
        })) as [number, ...(string | number | null)[]];
        if (r[0] === 1) return { ok: true, value: { token: Number(r[1]), value: String(r[2]), sentAt } };
        const [, what, raw, ttl, count] = r;
        const h = parseHolder(raw as string | null);
        const why =
          what === 'writer'
            ? `held for writing by ${describeHolder(h)}`
            : what === 'intent'
              ? `a writer is waiting for it: ${describeHolder(h)}`
              : `held for reading by ${count} reader(s), first ${describeHolder(h)}`;
        return {
          ok: false,
          holder: h,
          retryInMs: Number(ttl),
          held: `the ${label} is ${why.replace(/^a writer is waiting for it: /, 'awaited by a writer: ')}`,
          busy: (waited) => new LockBusyError(`cannot take the ${label}: ${why}; ${formatWait(waited)}`, base, h, waited),
        };
      }, observe).catch(async (err) => {
        // A writer that gives up must not keep readers out.
        if (mode === 'write') await s.withdraw(k.intent, intentRecord).catch(() => undefined);
        throw err;
      });
      const ops =
        mode === 'write'
          ? {
              extend: async () => (await s.str_extend(k.writer, got.value, opts.ttlMs)) === 1,
              check: async () => (await s.str_check(k.writer, got.value)) === 1,
              release: async () => void (await s.str_release(k.writer, got.value)),
            }
          : {
              extend: async () => (await s.set_extend(k.readers, k.readinfo, id, opts.ttlMs)) === 1,
              check: async () => (await s.set_check(k.readers, k.readinfo, id)) === 1,
              release: async () => void (await s.set_release(k.readers, k.readinfo, id)),
            };
      return new RedisLease(mode === 'write' ? k.writer : k.readers, got.token, conn, ops, { ttlMs: opts.ttlMs, keepAlive: opts.keepAlive, label }, got.sentAt);
    } catch (err) {
      await conn.close();
      throw err;
    }
  }

  return {
    key: base,
    acquireRead: (o) => acquire('read', o),
    acquireWrite: (o) => acquire('write', o),
    read: { acquire: (o) => acquire('read', o) },
    write: { acquire: (o) => acquire('write', o) },
    async holders() {
      const conn = await openRedis(url, opts);
      try {
        const [sec, usec] = await conn.client.time();
        const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
        const [w, live, info, intent] = await Promise.all([
          conn.client.get(k.writer),
          conn.client.zrangebyscore(k.readers, now, '+inf'),
          conn.client.hgetall(k.readinfo),
          conn.client.get(k.intent),
        ]);
        return {
          writer: parseHolder(w) ?? null,
          readers: live.map((id) => parseHolder(info[id])).filter((h): h is HeldBy => h !== undefined),
          waitingWriter: parseHolder(intent) ?? null,
        };
      } catch (e) {
        throw conn.fail(e, base);
      } finally {
        await conn.close();
      }
    },
  };
}

function prefixed<P extends string, T extends Record<string, Script>>(p: P, scripts: T): { [K in keyof T & string as `${P}${K}`]: Script } {
  return Object.fromEntries(Object.entries(scripts).map(([n, v]) => [p + n, v])) as never;
}
