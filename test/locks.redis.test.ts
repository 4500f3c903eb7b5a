import { describe, expect, it } from 'vitest';
import { createRedisHostLock, createRedisMutex, LockBusyError, LockLostError, type HolderInfo, type LockHandle } from '../src/locks/index.js';
import { refusal, sleep, useRedis } from './helpers/locks.js';
import { startRedis } from './helpers/redis.js';

const ctx = useRedis();
let n = 0;
/** A fresh key prefix per test keeps tests independent on one server. */
const prefix = () => `t${++n}:`;
const holder = (host: string, pid = 1000 + n, plan = `plan-${host}`): HolderInfo => ({ host, pid, plan, since: new Date().toISOString() });




describe('redis host lock', () => {
  it('lets exactly one of two racing clients win, and names the winner to the loser', async () => {
    const keyPrefix = prefix();
    const a = createRedisHostLock(ctx.server.url, { ttlMs: 5000, keyPrefix, hostName: 'web1' });
    const b = createRedisHostLock(ctx.server.url, { ttlMs: 5000, keyPrefix, hostName: 'web1' });
    expect(a.key).toBe(`${keyPrefix}host:web1`);
    const results = await Promise.allSettled([
      a.acquire({ waitMs: 0, holder: holder('hostA', 111, 'aaa') }),
      b.acquire({ waitMs: 0, holder: holder('hostB', 222, 'bbb') }),
    ]);
    const won = results.filter((r): r is PromiseFulfilledResult<LockHandle> => r.status === 'fulfilled');
    const lostR = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lostR).toHaveLength(1);
    const stored = JSON.parse((await ctx.raw.get(a.key))!);
    const err = lostR[0]!.reason as LockBusyError;
    expect(err).toBeInstanceOf(LockBusyError);
    expect(err.holder?.host).toBe(stored.host);
    expect(err.holder?.pid).toBe(stored.pid);
    expect(err.message).toContain(`is held by ${stored.host} (pid ${stored.pid}, plan ${stored.plan}, since ${stored.since})`);
    expect(err.message).not.toContain('\n');
    expect(stored.token).toBe(won[0]!.value.token);
    await won[0]!.value.release();
    expect(await ctx.raw.exists(a.key)).toBe(0);
  });

  it('serialises many waiting contenders with strictly increasing fencing tokens', async () => {
    const keyPrefix = prefix();
    let inside = 0;
    let maxInside = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const lock = createRedisHostLock(ctx.server.url, { ttlMs: 2000, keyPrefix, hostName: 'db1' });
        const h = await lock.acquire({ waitMs: 20_000, holder: holder(`c${i}`, 2000 + i) });
        inside++;
        maxInside = Math.max(maxInside, inside);
        order.push(h.token);
        await h.assertHeld();
        await sleep(20);
        inside--;
        await h.release();
      }),
    );
    expect(maxInside).toBe(1);
    expect(order).toHaveLength(8);
    for (let i = 1; i < order.length; i++) expect(order[i]!).toBeGreaterThan(order[i - 1]!);
    expect(Number(await ctx.raw.get(`${keyPrefix}host:db1:fence`))).toBe(order.at(-1));
  });

  it('keeps the lease alive well beyond its TTL', async () => {
    const keyPrefix = prefix();
    const lock = createRedisHostLock(ctx.server.url, { ttlMs: 300, keyPrefix, hostName: 'h' });
    const h = await lock.acquire({ waitMs: 0, holder: holder('keeper') });
    await sleep(1200);
    expect(h.lost).toBe(false);
    await h.assertHeld();
    expect(JSON.parse((await ctx.raw.get(lock.key))!).token).toBe(h.token);
    const pttl = await ctx.raw.pttl(lock.key);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(300);
    const other = createRedisHostLock(ctx.server.url, { ttlMs: 300, keyPrefix, hostName: 'h' });
    await expect(other.acquire({ waitMs: 0, holder: holder('other') })).rejects.toBeInstanceOf(LockBusyError);
    await h.release();
  });

  it('expires a crashed holder (no keep-alive) and lets the next one in with a higher token', async () => {
    const keyPrefix = prefix();
    const crashed = await createRedisHostLock(ctx.server.url, { ttlMs: 400, keyPrefix, hostName: 'h', keepAlive: false }).acquire({ waitMs: 0, holder: holder('crashy') });
    const lock = createRedisHostLock(ctx.server.url, { ttlMs: 400, keyPrefix, hostName: 'h' });
    await expect(lock.acquire({ waitMs: 0, holder: holder('next') })).rejects.toThrow(/held by crashy/);
    const t0 = performance.now();
    const next = await lock.acquire({ waitMs: 3000, holder: holder('next') });
    const waited = performance.now() - t0;
    expect(waited).toBeLessThan(1500);
    expect(next.token).toBeGreaterThan(crashed.token);
    expect(JSON.parse((await ctx.raw.get(lock.key))!).host).toBe('next');

    // Release by the old holder must not remove the new holder's lease.
    expect(crashed.lost).toBe(true);
    await expect(crashed.assertHeld()).rejects.toBeInstanceOf(LockLostError);
    await crashed.release();
    expect(JSON.parse((await ctx.raw.get(lock.key))!).host).toBe('next');
    await next.assertHeld();
    await next.release();
    expect(await ctx.raw.exists(lock.key)).toBe(0);
  });

  it('marks the lease lost when its key is deleted', async () => {
    const lock = createRedisHostLock(ctx.server.url, { ttlMs: 600, keyPrefix: prefix(), hostName: 'h' });
    const h = await lock.acquire({ waitMs: 0, holder: holder('me') });
    await h.assertHeld();
    await ctx.raw.del(lock.key);
    await expect(h.assertHeld()).rejects.toThrow(LockLostError);
    expect(h.lost).toBe(true);
    await h.release();
  });

  it('notices an overwritten key from the keep-alive alone, without assertHeld', async () => {
    const lock = createRedisHostLock(ctx.server.url, { ttlMs: 300, keyPrefix: prefix(), hostName: 'h' });
    const h = await lock.acquire({ waitMs: 0, holder: holder('me') });
    await ctx.raw.set(lock.key, JSON.stringify({ host: 'intruder', pid: 1, since: 'x' }), 'PX', 10_000);
    for (let i = 0; i < 40 && !h.lost; i++) await sleep(25);
    expect(h.lost).toBe(true);
    const err = await h.assertHeld().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockLostError);
    expect((err as LockLostError).message).toMatch(/^lost the host lock .*\(fencing token \d+\): keep-alive found the lease gone/);
    // Release by a non-holder leaves the intruder's value alone.
    await h.release();
    expect(JSON.parse((await ctx.raw.get(lock.key))!).host).toBe('intruder');
  });

  it('reports who holds it (for doctor)', async () => {
    const lock = createRedisMutex(ctx.server.url, `${prefix()}custom`, { ttlMs: 2000 });
    expect(await lock.holder()).toBeNull();
    const h = await lock.acquire({ waitMs: 0, holder: holder('seen', 77, 'p77') });
    expect(await lock.holder()).toMatchObject({ host: 'seen', pid: 77, plan: 'p77', token: h.token });
    await h.release();
  });

  it('stops waiting when aborted', async () => {
    const keyPrefix = prefix();
    const h = await createRedisHostLock(ctx.server.url, { ttlMs: 2000, keyPrefix, hostName: 'h' }).acquire({ waitMs: 0, holder: holder('x') });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('cancelled by test')), 150);
    const t0 = performance.now();
    await expect(createRedisHostLock(ctx.server.url, { ttlMs: 2000, keyPrefix, hostName: 'h' }).acquire({ waitMs: 10_000, holder: holder('y'), signal: ac.signal })).rejects.toThrow('cancelled by test');
    expect(performance.now() - t0).toBeLessThan(2000);
    await h.release();
  });

  it('gives up after waitMs with the holder named', async () => {
    const keyPrefix = prefix();
    const h = await createRedisHostLock(ctx.server.url, { ttlMs: 2000, keyPrefix, hostName: 'h' }).acquire({ waitMs: 0, holder: holder('owner', 4242, 'abc123') });
    const t0 = performance.now();
    const err = await refusal(createRedisHostLock(ctx.server.url, { ttlMs: 2000, keyPrefix, hostName: 'h' })
      .acquire({ waitMs: 500, holder: holder('y') }));
    const took = performance.now() - t0;
    expect(err.message).toMatch(/^host lock \S+ is held by owner \(pid 4242, plan abc123, since \S+\); gave up after 500 ms$/);
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(1500);
    await h.release();
  });
});

describe('redis host lock when Redis dies', () => {
  it('marks the lease lost and assertHeld throws LockLostError', async () => {
    const own = await startRedis();
    try {
      const lock = createRedisHostLock(own.url, { ttlMs: 600, keyPrefix: prefix(), hostName: 'h' });
      const h = await lock.acquire({ waitMs: 0, holder: holder('me') });
      await h.assertHeld();
      await own.stop();
      const t0 = performance.now();
      const err = await h.assertHeld().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockLostError);
      expect((err as Error).message).toMatch(/cannot confirm it: .*Redis at 127\.0\.0\.1:\d+/);
      expect(performance.now() - t0).toBeLessThan(2500);
      expect(h.lost).toBe(true);
      const t1 = performance.now();
      await h.release(); // must not throw or hang with Redis gone
      expect(performance.now() - t1).toBeLessThan(2500);
    } finally {
      await own.stop();
    }
  });

  it('marks the lease lost from keep-alive failures alone within the TTL', async () => {
    const own = await startRedis();
    try {
      const h = await createRedisHostLock(own.url, { ttlMs: 600, keyPrefix: prefix(), hostName: 'h' }).acquire({ waitMs: 0, holder: holder('me') });
      await own.stop();
      for (let i = 0; i < 60 && !h.lost; i++) await sleep(25);
      expect(h.lost).toBe(true);
      await h.release();
    } finally {
      await own.stop();
    }
  });
});
