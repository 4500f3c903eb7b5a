import { describe, expect, it } from 'vitest';
import { createRedisSemaphore, LockBusyError, LockLostError, type HolderInfo } from '../src/locks/index.js';
import { refusal, sleep, useRedis } from './helpers/locks.js';

const ctx = useRedis();
let n = 0;
const holder = (host: string, pid = 1): HolderInfo => ({ host, pid, since: new Date().toISOString() });




describe('redis counting semaphore', () => {
  it('never has more than N holders under concurrent acquisition', async () => {
    const sem = createRedisSemaphore(ctx.server.url, { ttlMs: 2000, keyPrefix: `sem${++n}:`, name: 'restart', limit: 3 });
    let inside = 0;
    let maxInside = 0;
    let maxInRedis = 0;
    const tokens: number[] = [];
    await Promise.all(
      Array.from({ length: 15 }, async (_, i) => {
        const h = await sem.acquire({ waitMs: 20_000, holder: holder(`host${i}`, i) });
        inside++;
        maxInside = Math.max(maxInside, inside);
        tokens.push(h.token);
        maxInRedis = Math.max(maxInRedis, await ctx.raw.zcard(`${sem.key}:holders`));
        await sleep(40);
        inside--;
        await h.release();
      }),
    );
    expect(maxInside).toBe(3);
    expect(maxInRedis).toBeLessThanOrEqual(3);
    expect(new Set(tokens).size).toBe(15);
    expect(await ctx.raw.zcard(`${sem.key}:holders`)).toBe(0);
  });

  it('refuses at once when full, naming a holder', async () => {
    const sem = createRedisSemaphore(ctx.server.url, { ttlMs: 2000, keyPrefix: `sem${++n}:`, name: 'r', limit: 2 });
    const a = await sem.acquire({ waitMs: 0, holder: holder('a', 10) });
    const b = await sem.acquire({ waitMs: 0, holder: holder('b', 11) });
    const err = await refusal(sem.acquire({ waitMs: 0, holder: holder('c') }));
    expect(err.message).toMatch(/^semaphore \S+ \(limit 2\) is full: 2 holder\(s\), the oldest a \(pid 10, since \S+\); not waiting/);
    expect((await sem.holders()).map((h) => h.host).sort()).toEqual(['a', 'b']);
    await a.release();
    const c = await sem.acquire({ waitMs: 0, holder: holder('c') });
    await b.release();
    await c.release();
  });

  it('frees the slot of a crashed holder when its lease expires', async () => {
    const keyPrefix = `sem${++n}:`;
    const crashed = await createRedisSemaphore(ctx.server.url, { ttlMs: 300, keepAlive: false, keyPrefix, name: 'r', limit: 1 }).acquire({ waitMs: 0, holder: holder('crashy') });
    const sem = createRedisSemaphore(ctx.server.url, { ttlMs: 2000, keyPrefix, name: 'r', limit: 1 });
    await expect(sem.acquire({ waitMs: 0, holder: holder('next') })).rejects.toThrow(/oldest crashy/);
    const h = await sem.acquire({ waitMs: 3000, holder: holder('next') });
    expect(h.token).toBeGreaterThan(crashed.token);
    expect(await ctx.raw.zcard(`${sem.key}:holders`)).toBe(1);
    await crashed.release(); // must not free the new holder's slot
    expect(await ctx.raw.zcard(`${sem.key}:holders`)).toBe(1);
    await h.release();
  });

  it('keeps a held slot alive past the TTL and notices when it is taken away', async () => {
    const sem = createRedisSemaphore(ctx.server.url, { ttlMs: 300, keyPrefix: `sem${++n}:`, name: 'r', limit: 1 });
    const h = await sem.acquire({ waitMs: 0, holder: holder('a') });
    await sleep(900);
    await h.assertHeld();
    await expect(sem.acquire({ waitMs: 0, holder: holder('b') })).rejects.toBeInstanceOf(LockBusyError);
    await ctx.raw.del(`${sem.key}:holders`);
    await expect(h.assertHeld()).rejects.toBeInstanceOf(LockLostError);
    await h.release();
  });
});
