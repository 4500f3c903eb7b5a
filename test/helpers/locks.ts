import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect } from 'vitest';
import { LockBusyError } from '../../src/locks/index.js';
import { startRedis, type RedisServer } from './redis.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every 100 ms (a throw counts as "not yet") until it returns a value; fails naming `what` after `ms`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The LockBusyError a refused acquisition rejects with (fails the test if it resolves). */
export async function refusal(p: Promise<unknown>): Promise<LockBusyError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(LockBusyError);
  return e as LockBusyError;
}

/** One redis-server for the test file and a raw client to look at what it holds; both stopped after. */
export function useRedis(): { readonly server: RedisServer; readonly raw: Redis } {
  const ctx = {} as { server: RedisServer; raw: Redis };
  beforeAll(async () => {
    ctx.server = await startRedis();
    ctx.raw = new Redis(ctx.server.url);
  });
  afterAll(async () => {
    ctx.raw?.disconnect();
    await ctx.server?.stop();
  });
  return ctx;
}
