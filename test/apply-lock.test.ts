/**
 * apply under the host lock, for real: a local lock file held by another process of this machine,
 * and a Redis lease held by another client, each make a second apply wait and then fail naming
 * the holder; once free, apply runs and its journal carries the fencing token.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';
import { startRedis } from './helpers/redis.js';
import { createLocalHostLock } from '../src/locks/local.js';
import { createRedisHostLock } from '../src/locks/redis.js';

let t: ReturnType<typeof tempRoot>;
beforeEach(() => {
  t = tempRoot();
});
afterEach(() => t.cleanup());

const holder = { host: 'other-host', pid: process.pid, plan: 'cafe0123', since: new Date().toISOString() };

function journalLockTokens(root: string): number[] {
  const dir = path.join(root, 'var/lib/reconcile/journal');
  return readdirSync(dir).map((j) => JSON.parse(readFileSync(path.join(dir, j, 'journal.jsonl'), 'utf8').split('\n')[0]!).lockToken);
}

describe('apply takes the host lock', () => {
  it('a held local lock makes apply fail at once with lock.wait 0s, naming the holder', async () => {
    appendFileSync(t.spec, 'lock: {wait: 0s}\n');
    const handle = await createLocalHostLock(path.join(t.root, 'var/lib/reconcile/lock')).acquire({ waitMs: 0, holder });
    try {
      const r = await runCli(['apply', t.spec, '--root', t.root, '--yes']);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(`pid ${process.pid}`);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(readFileSync(path.join(t.root, 'etc/timezone'), 'utf8')).toBe('Etc/UTC\n');
    } finally {
      await handle.release();
    }
    const ok = await runCli(['apply', t.spec, '--root', t.root, '--yes']);
    expect(ok.exitCode).toBe(0);
    expect(journalLockTokens(t.root)[0]).toBeGreaterThan(handle.token);
  });
});

describe('two applies at once', () => {
  it('serialise on the local lock: both succeed, exactly one changes the host', async () => {
    const [a, b] = await Promise.all([runCli(['apply', t.spec, '--root', t.root, '--yes']), runCli(['apply', t.spec, '--root', t.root, '--yes'])]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    expect([a.stdout, b.stdout].filter((o) => o.includes('in sync, nothing to change'))).toHaveLength(1);
    expect(readdirSync(path.join(t.root, 'var/lib/reconcile/journal'))).toHaveLength(1);
  });
});

describe('apply with lock.redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('waits for a Redis lease held elsewhere, fails naming it, then applies with a fencing token', async () => {
    appendFileSync(t.spec, 'lock: {redis: {env: TEST_REDIS_URL}, ttl: 5s, wait: 1s}\n');
    const env = { TEST_REDIS_URL: redis.url };
    // The spec's host is nfs1; the lock key is per host.
    const held = await createRedisHostLock(redis.url, { ttlMs: 5_000, hostName: 'nfs1' }).acquire({ waitMs: 0, holder });
    try {
      const r = await runCli(['apply', t.spec, '--root', t.root, '--yes'], { env });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/held by other-host \(pid \d+, plan cafe0123/);
      expect(r.stderr).not.toContain(redis.url);
    } finally {
      await held.release();
    }
    const ok = await runCli(['apply', t.spec, '--root', t.root, '--yes'], { env });
    expect(ok.stderr).toBe('');
    expect(ok.exitCode).toBe(0);
    const [token] = journalLockTokens(t.root);
    expect(token).toBe(held.token + 1);
  });

  it('refuses to apply when Redis cannot be reached', async () => {
    appendFileSync(t.spec, 'lock: {redis: {env: TEST_REDIS_URL}, wait: 0s}\n');
    const r = await runCli(['apply', t.spec, '--root', t.root, '--yes'], { env: { TEST_REDIS_URL: 'redis://127.0.0.1:1' } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/cannot reach Redis/);
    expect(readFileSync(path.join(t.root, 'etc/timezone'), 'utf8')).toBe('Etc/UTC\n');
  });
});
