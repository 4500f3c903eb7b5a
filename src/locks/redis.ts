/**
 * Redis lease mutex: SET NX PX with a unique holder record, release/extend only by the holder
 * (Lua compare-and-act), keep-alive at a third of the TTL, a fencing token from INCR <key>:fence.
 */
import os from 'node:os';
import { openRedis, type Connection, type RedisConnectOptions } from './connection.js';
import {
  defineScripts,
  holderRecord,
  newLeaseId,
  RedisLease,
  STRING_LEASE_SCRIPTS,
} from './lease.js';
import {
  describeHolder,
  formatWait,
  LockBusyError,
  parseHolder,
  type AcquireOptions,
  type HeldBy,
  type InspectableLock,
} from './types.js';
import { acquireWithWait, type Attempt } from './wait.js';

export { RedisLease } from './lease.js';

export interface RedisLockOptions extends RedisConnectOptions {
  ttlMs: number;
  /** Prefix of every key; default "reconcile:". */
  keyPrefix?: string;
  /** false only to simulate a crashed holder in tests. */
  keepAlive?: boolean;
}

export interface RedisHostLockOptions extends RedisLockOptions {
  /** The host whose applies this lock serialises; default os.hostname(). */
  hostName?: string;
}

export const DEFAULT_KEY_PREFIX = 'reconcile:';

/** The per-host apply mutex at `<prefix>host:<name>` (default `reconcile:host:<hostname>`). */
export function createRedisHostLock(url: string, opts: RedisHostLockOptions): InspectableLock & { readonly key: string } {
  const key = `${opts.keyPrefix ?? DEFAULT_KEY_PREFIX}host:${opts.hostName ?? os.hostname()}`;
  return createRedisMutex(url, key, { ...opts, label: `host lock ${key}` });
}

/** A lease mutex at an arbitrary key; its fencing counter is `<key>:fence`. */
export function createRedisMutex(
  url: string,
  key: string,
  opts: RedisLockOptions & { label?: string },
): InspectableLock & { readonly key: string } {
  checkTtl(opts.ttlMs);
  const label = opts.label ?? `lock ${key}`;
  const fence = `${key}:fence`;
  return {
    key,
    async acquire({ waitMs, holder, signal, ...observe }: AcquireOptions): Promise<RedisLease> {
      const conn = await openRedis(url, opts);
      try {
        const s = defineScripts(conn.client, STRING_LEASE_SCRIPTS);
        const id = newLeaseId();
        const { token, value, sentAt } = await acquireWithWait(waitMs, signal, async (): Promise<Attempt<{ token: number; value: string; sentAt: number }>> => {
          const record = holderRecord(id, holder);
          const sentAt = performance.now();
          const r = (await s.acquire(key, fence, record, opts.ttlMs).catch((e) => {
            throw conn.fail(e, key);
          })) as [number, number | string | null, number | string];
          if (r[0] === 1) return { ok: true, value: { token: Number(r[1]), value: String(r[2]), sentAt } };
          return busy(key, label, r[1] as string | null, Number(r[2]));
        }, observe);
        return new RedisLease(
          key,
          token,
          conn,
          {
            extend: async () => (await s.extend(key, value, opts.ttlMs)) === 1,
            check: async () => (await s.check(key, value)) === 1,
            release: async () => void (await s.release(key, value)),
          },
          { ttlMs: opts.ttlMs, keepAlive: opts.keepAlive, label },
          sentAt,
        );
      } catch (err) {
        await conn.close();
        throw err;
      }
    },
    holder: () => withConnection(url, opts, async (conn) => {
      const v = await conn.client.get(key).catch((e) => {
        throw conn.fail(e, key);
      });
      return v === null ? null : (parseHolder(v) ?? null);
    }),
  };
}

function busy<T>(key: string, label: string, raw: string | null, pttl: number): Attempt<T> {
  const holder = parseHolder(raw);
  const expiry = pttl === -1 ? ' with no expiry (set by hand?)' : '';
  return {
    ok: false,
    holder,
    retryInMs: pttl >= 0 ? pttl : undefined,
    held: `${label} is held by ${describeHolder(holder)}${expiry}`,
    busy: (waited) =>
      new LockBusyError(
        `${label} is held by ${describeHolder(holder)}${expiry}; ${formatWait(waited)}`,
        key,
        holder,
        waited,
      ),
  };
}

export function checkTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs < 30) throw new RangeError(`lock ttl must be an integer of at least 30 ms, got ${ttlMs}`);
}

export async function withConnection<T>(
  url: string,
  opts: RedisConnectOptions,
  fn: (conn: Connection) => Promise<T>,
): Promise<T> {
  const conn = await openRedis(url, opts);
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

export type { HeldBy };
