import { describe, expect, it } from 'vitest';
import { createRedisRwLock, LockBusyError, LockLostError, type HolderInfo, type LockHandle } from '../src/locks/index.js';
import { refusal, sleep, useRedis } from './helpers/locks.js';

const ctx = useRedis();
let n = 0;
const fresh = (ttlMs = 2000, keepAlive = true) => createRedisRwLock(ctx.server.url, { ttlMs, keepAlive, keyPrefix: `rw${++n}:`, name: 'pg:main' });
const holder = (host: string, pid = 1): HolderInfo => ({ host, pid, plan: `plan-${host}`, since: new Date().toISOString() });




describe('redis read-write lock', () => {
  it('lets readers share and keeps a writer out while they hold it', async () => {
    const rw = fresh();
    const readers = await Promise.all([1, 2, 3].map((i) => rw.acquireRead({ waitMs: 0, holder: holder(`r${i}`, i) })));
    expect(await ctx.raw.zcard(`${rw.key}:readers`)).toBe(3);
    expect(new Set(readers.map((r) => r.token)).size).toBe(3);
    const err = await refusal(rw.acquireWrite({ waitMs: 0, holder: holder('w') }));
    expect(err.message).toMatch(/^cannot take the write lock \S+: held for reading by 3 reader\(s\), first r\d \(pid \d/);
    // A writer that gave up leaves no intent behind to block readers.
    expect(await ctx.raw.exists(`${rw.key}:intent`)).toBe(0);
    const r4 = await rw.acquireRead({ waitMs: 0, holder: holder('r4') });
    expect((await rw.holders()).readers.map((h) => h.host).sort()).toEqual(['r1', 'r2', 'r3', 'r4']);
    for (const r of [...readers, r4]) await r.release();
    expect(await ctx.raw.zcard(`${rw.key}:readers`)).toBe(0);
    const w = await rw.acquireWrite({ waitMs: 0, holder: holder('w') });
    await w.assertHeld();
    await w.release();
  });

  it('gives a writer exclusive access', async () => {
    const rw = fresh();
    const w = await rw.acquireWrite({ waitMs: 0, holder: holder('writer', 9) });
    await expect(rw.acquireRead({ waitMs: 0, holder: holder('r') })).rejects.toThrow(/held for writing by writer \(pid 9/);
    await expect(rw.acquireWrite({ waitMs: 0, holder: holder('w2') })).rejects.toThrow(/held for writing by writer/);
    expect((await rw.holders()).writer?.host).toBe('writer');
    const pending = rw.acquireRead({ waitMs: 5000, holder: holder('r') });
    await sleep(100);
    await w.release();
    const r = await pending;
    expect(r.token).toBeGreaterThan(w.token);
    await r.release();
  });

  it('does not starve a waiting writer under a stream of overlapping readers', async () => {
    const rw = fresh(3000);
    const first = await rw.acquireRead({ waitMs: 0, holder: holder('r0') });
    const writer = rw.acquireWrite({ waitMs: 10_000, holder: holder('writer') });
    for (let i = 0; i < 100 && !(await ctx.raw.exists(`${rw.key}:intent`)); i++) await sleep(10);
    expect(await ctx.raw.exists(`${rw.key}:intent`)).toBe(1);

    // New readers are refused at once, naming the waiting writer...
    await expect(rw.acquireRead({ waitMs: 0, holder: holder('late') })).rejects.toThrow(/a writer is waiting for it: writer \(pid/);
    // ...and a stream of readers that would overlap each other forever all queue behind it.
    const stream: Promise<LockHandle>[] = [];
    for (let i = 0; i < 6; i++) {
      stream.push(
        rw.acquireRead({ waitMs: 10_000, holder: holder(`s${i}`) }).then(async (h) => {
          await sleep(150);
          return h;
        }),
      );
      await sleep(40);
    }
    await first.release();
    const w = await writer;
    expect(await ctx.raw.zcard(`${rw.key}:readers`)).toBe(0);
    await sleep(100);
    expect(await ctx.raw.zcard(`${rw.key}:readers`)).toBe(0); // still excluded while the writer holds
    await w.release();
    const got = await Promise.all(stream);
    for (const h of got) expect(h.token).toBeGreaterThan(w.token);
    for (const h of got) await h.release();
  });

  it('expires a crashed reader so a writer gets in', async () => {
    const keyPrefix = `rw${++n}:`;
    const crashed = await createRedisRwLock(ctx.server.url, { ttlMs: 300, keepAlive: false, keyPrefix, name: 'x' }).acquireRead({ waitMs: 0, holder: holder('crashy') });
    const rw = createRedisRwLock(ctx.server.url, { ttlMs: 2000, keyPrefix, name: 'x' });
    const t0 = performance.now();
    const w = await rw.acquireWrite({ waitMs: 3000, holder: holder('w') });
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(await ctx.raw.zcard(`${rw.key}:readers`)).toBe(0);
    expect(await ctx.raw.hlen(`${rw.key}:readinfo`)).toBe(0);
    await expect(crashed.assertHeld()).rejects.toBeInstanceOf(LockLostError);
    await crashed.release();
    await w.release();
  });

  it('expires the intent of a writer that died while waiting', async () => {
    const rw = fresh();
    await ctx.raw.set(`${rw.key}:intent`, JSON.stringify({ id: 'dead', host: 'ghost', pid: 5, since: 'then' }), 'PX', 400);
    await expect(rw.acquireRead({ waitMs: 0, holder: holder('r') })).rejects.toThrow(/a writer is waiting for it: ghost \(pid 5/);
    const r = await rw.acquireRead({ waitMs: 3000, holder: holder('r') });
    await r.release();
  });

  it('reader lease is lost when its member is removed', async () => {
    const rw = fresh(600);
    const r = await rw.acquireRead({ waitMs: 0, holder: holder('r') });
    await ctx.raw.del(`${rw.key}:readers`);
    await expect(r.assertHeld()).rejects.toBeInstanceOf(LockLostError);
    expect(r.lost).toBe(true);
    await r.release();
  });

  it('keeps the invariant through a few hundred random operations', async () => {
    const rw = fresh(2000);
    let readersIn = 0;
    let writersIn = 0;
    let maxReaders = 0;
    let writes = 0;
    const violations: string[] = [];
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const ops = 240;
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        while (next < ops) {
          next++;
          const write = rand() < 0.25;
          const hold = Math.floor(rand() * 15);
          const h = await (write ? rw.acquireWrite : rw.acquireRead)({ waitMs: 30_000, holder: holder(`w${worker}`) });
          if (write) {
            writersIn++;
            writes++;
            if (writersIn > 1 || readersIn > 0) violations.push(`writer with ${writersIn - 1} writers, ${readersIn} readers`);
          } else {
            readersIn++;
            maxReaders = Math.max(maxReaders, readersIn);
            if (writersIn > 0) violations.push(`reader with ${writersIn} writers`);
          }
          await sleep(hold);
          if (write) writersIn--;
          else readersIn--;
          await h.release();
        }
      }),
    );
    expect(violations).toEqual([]);
    expect(writes).toBeGreaterThan(20);
    expect(maxReaders).toBeGreaterThan(1);
    expect(await ctx.raw.exists(`${rw.key}:writer`, `${rw.key}:intent`)).toBe(0);
    expect(await ctx.raw.zcard(`${rw.key}:readers`)).toBe(0);
  });
});
