/**
 * apply stopped between steps, for real reasons: a signal (SIGTERM/SIGINT abort the apply), the
 * Redis lease taken away (deleted, or Redis stopped) — the running step finishes, the rest do not
 * start, the report says so, and the next apply converges the host.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { applySpec, type ApplyReport } from '../src/apply/apply.js';
import { tempRoot } from './helpers/root.js';
import { startRedis } from './helpers/redis.js';

let t: ReturnType<typeof tempRoot>;
beforeEach(() => {
  t = tempRoot();
});
afterEach(() => t.cleanup());

const notRun = (r: ApplyReport) => r.results.filter((s) => s.status === 'not run').length;

describe('apply stops at a step boundary', () => {
  it('on a signal, and the next apply converges', async () => {
    const controller = new AbortController();
    const report = await applySpec(t.spec, {
      root: t.root,
      signal: controller.signal,
      onStep: ({ index, result }) => {
        if (index === 1 && result) controller.abort('SIGTERM');
      },
    });
    expect(report.ok).toBe(false);
    expect(report.stoppedBecause).toBe('interrupted (SIGTERM)');
    expect(report.results.slice(0, 2).map((r) => r.status)).toEqual(['done', 'done']);
    expect(notRun(report)).toBe(report.results.length - 2);
    expect(readFileSync(path.join(t.root, 'etc/timezone'), 'utf8')).toBe('Asia/Shanghai\n'); // step 2 ran
    expect(readFileSync(path.join(t.root, 'etc/exports'), 'utf8')).not.toContain('/srv/backup'); // later ones did not

    const next = await applySpec(t.spec, { root: t.root });
    expect(next.ok).toBe(true);
    expect(readFileSync(path.join(t.root, 'etc/exports'), 'utf8')).toContain('/srv/backup backup.example.internal');
  });

  it('when the Redis lease is taken away (key deleted, then Redis stopped)', async () => {
    const redis = await startRedis();
    try {
      appendFileSync(t.spec, 'lock: {redis: {env: TEST_REDIS_URL}, ttl: 10s}\n');
      const env = { ...process.env, TEST_REDIS_URL: redis.url };
      const client = new Redis(redis.url);
      const lost = await applySpec(t.spec, {
        root: t.root,
        env,
        onStep: ({ index, result }) => {
          if (index === 0 && result) void client.del('reconcile:host:nfs1');
        },
      });
      await client.quit();
      expect(lost.ok).toBe(false);
      expect(lost.stoppedBecause).toMatch(/^the lock was lost/);
      expect(notRun(lost)).toBeGreaterThan(0);

      const stopped = await applySpec(t.spec, {
        root: t.root,
        env,
        onStep: async ({ index, result }) => {
          if (index === 0 && result) await redis.stop();
        },
      });
      expect(stopped.ok).toBe(false);
      expect(stopped.stoppedBecause).toMatch(/^the lock was lost/);
    } finally {
      await redis.stop();
    }
    // Without Redis the spec cannot take its lock: drop lock.redis and converge with the local lock.
    const spec = readFileSync(t.spec, 'utf8').replace(/^lock: .*\n/m, '');
    writeFileSync(t.spec, spec);
    expect((await applySpec(t.spec, { root: t.root })).ok).toBe(true);
  });
});
