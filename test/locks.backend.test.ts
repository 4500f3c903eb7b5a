import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedisHostLock,
  createRedisRwLock,
  createRedisSemaphore,
  LockBackendError,
  type HolderInfo,
} from '../src/locks/index.js';
import { startRedis, type RedisServer } from './helpers/redis.js';

const holder: HolderInfo = { host: 'h', pid: process.pid, since: new Date().toISOString() };

/** Acquire, expecting a LockBackendError quickly; returns it. */
async function backendFailure(p: () => Promise<unknown>): Promise<LockBackendError> {
  const t0 = performance.now();
  const err = await p().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(performance.now() - t0).toBeLessThan(3000);
  expect(err).toBeInstanceOf(LockBackendError);
  const e = err as LockBackendError;
  expect(e.message).not.toContain('\n');
  return e;
}

describe('bad Redis gives a clear LockBackendError, fast', () => {
  let plain: RedisServer;
  let secured: RedisServer;
  let raw: Redis;
  beforeAll(async () => {
    [plain, secured] = await Promise.all([startRedis(), startRedis({ password: 's3cret' })]);
    raw = new Redis(plain.url);
  });
  afterAll(async () => {
    raw?.disconnect();
    await Promise.all([plain?.stop(), secured?.stop()]);
  });

  it('closed port: connection refused', async () => {
    // Take a free port and keep nothing listening on it.
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const e = await backendFailure(() =>
      createRedisHostLock(`redis://127.0.0.1:${port}`, { ttlMs: 1000 }).acquire({ waitMs: 5000, holder }),
    );
    expect(e.message).toBe(`cannot reach Redis at 127.0.0.1:${port}: connection refused`);
    expect(e.reason).toBe('unreachable');
  });

  it('a listener that never answers: timeout', async () => {
    const silent = net.createServer(() => {
      /* accept and say nothing */
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const e = await backendFailure(() =>
        createRedisHostLock(`redis://127.0.0.1:${port}`, { ttlMs: 1000, connectTimeoutMs: 800 }).acquire({ waitMs: 0, holder }),
      );
      expect(e.message).toMatch(new RegExp(`^(cannot reach Redis at 127\\.0\\.0\\.1:${port}: no answer within 800 ms|Redis at 127\\.0\\.0\\.1:${port} did not answer.*)$`));
      expect(e.reason).toBe('timeout');
    } finally {
      silent.close();
    }
  });

  it('wrong password', async () => {
    const e = await backendFailure(() =>
      createRedisHostLock(`redis://:wrong@127.0.0.1:${secured.port}`, { ttlMs: 1000 }).acquire({ waitMs: 0, holder }),
    );
    expect(e.message).toBe(`Redis at 127.0.0.1:${secured.port} rejected the password (WRONGPASS): check the password in the lock.redis URL`);
    expect(e.message).not.toContain('wrong');
    expect(e.reason).toBe('auth');
  });

  it('missing password', async () => {
    const e = await backendFailure(() =>
      createRedisHostLock(`redis://127.0.0.1:${secured.port}`, { ttlMs: 1000 }).acquire({ waitMs: 0, holder }),
    );
    expect(e.message).toMatch(/requires a password \(NOAUTH\)/);
    expect(e.reason).toBe('auth');
  });

  it('the right password works', async () => {
    const h = await createRedisHostLock(secured.url, { ttlMs: 1000 }).acquire({ waitMs: 0, holder });
    await h.assertHeld();
    await h.release();
  });

  it('WRONGTYPE at the host key', async () => {
    await raw.rpush('wt1:host:web1', 'x');
    const e = await backendFailure(() =>
      createRedisHostLock(plain.url, { ttlMs: 1000, keyPrefix: 'wt1:', hostName: 'web1' }).acquire({ waitMs: 5000, holder }),
    );
    expect(e.message).toBe(`Redis key wt1:host:web1 at 127.0.0.1:${plain.port} holds a list, not a reconcile lock: remove it or use another key prefix`);
    expect(e.reason).toBe('wrongtype');
    expect(await raw.lrange('wt1:host:web1', 0, -1)).toEqual(['x']);
  });

  it('WRONGTYPE at the fencing counter', async () => {
    await raw.set('wt2:host:web1:fence', 'not-a-number');
    const e = await backendFailure(() =>
      createRedisHostLock(plain.url, { ttlMs: 1000, keyPrefix: 'wt2:', hostName: 'web1' }).acquire({ waitMs: 0, holder }),
    );
    expect(e.message).toMatch(/^Redis key wt2:host:web1:fence at \S+ holds a non-integer string, not a reconcile lock/);
    expect(await raw.exists('wt2:host:web1')).toBe(0);
  });

  it('WRONGTYPE for the read-write lock and the semaphore', async () => {
    await raw.set('wt3:rw:pg:readers', 'oops');
    const e1 = await backendFailure(() => createRedisRwLock(plain.url, { ttlMs: 1000, keyPrefix: 'wt3:', name: 'pg' }).acquireRead({ waitMs: 0, holder }));
    expect(e1.message).toMatch(/^Redis key wt3:rw:pg:readers at \S+ holds a string, not a reconcile lock/);
    await raw.hset('wt4:sem:r:holders', 'a', 'b');
    const e2 = await backendFailure(() => createRedisSemaphore(plain.url, { ttlMs: 1000, keyPrefix: 'wt4:', name: 'r', limit: 2 }).acquire({ waitMs: 0, holder }));
    expect(e2.message).toMatch(/^Redis key wt4:sem:r:holders at \S+ holds a hash, not a reconcile lock/);
  });

  it('an invalid URL', async () => {
    const e = await backendFailure(() => createRedisHostLock('http://x', { ttlMs: 1000 }).acquire({ waitMs: 0, holder }));
    expect(e.reason).toBe('config');
  });
});
