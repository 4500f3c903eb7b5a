/**
 * A held lock is announced at once, naming its holder, and again while the wait goes on;
 * --lock-timeout replaces the fixed ten minutes (0: fail at once). Real locks: a lock file held by
 * this process and a Redis lease held by another client; apply runs with stderr a file (`2>log`),
 * read while it grows.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, REPO, runCli } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';
import { useRedis } from './helpers/locks.js';
import { createLocalHostLock } from '../src/locks/local.js';
import { createRedisHostLock } from '../src/locks/redis.js';
import type { LockWait } from '../src/locks/types.js';
import { events } from './helpers/apply-events.js';

const holder = { host: 'holder-host', pid: process.pid, plan: 'feed4242', since: '2026-01-02T03:04:05.000Z' };

let t: ReturnType<typeof tempRoot>;
const running: Promise<void>[] = [];
beforeEach(() => {
  t = tempRoot();
});
afterEach(async () => {
  await Promise.all(running.splice(0));
  t.cleanup();
});

/** `reconcile ARGS 2>log`: the log is read while apply runs; resolves the exit code at the end. */
function applyWithLog(args: string[], env: Record<string, string> = {}) {
  const log = path.join(t.dir, 'apply.log');
  const fd = openSync(log, 'w');
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', fd] });
  closeSync(fd);
  let stdout = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  // A failed assertion must not leave apply writing into a root the cleanup removes.
  running.push(exited.then(() => undefined));
  let done = false;
  void exited.then(() => (done = true));
  return {
    log: () => readFileSync(log, 'utf8'),
    running: () => !done,
    exited,
    stdout: () => stdout,
    /** Waits (polling the file, no fixed sleep) until the log holds `text`; fails if apply ends first. */
    async until(text: string): Promise<string> {
      for (;;) {
        const now = readFileSync(log, 'utf8');
        if (now.includes(text)) return now;
        if (done) throw new Error(`apply ended before the log said "${text}":\n${now}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

describe('a held local lock file', () => {
  it('is announced while apply waits, naming host, pid, plan and since; --lock-timeout ends the wait with exit 1 naming the holder', async () => {
    const held = await createLocalHostLock(path.join(t.root, 'var/lib/reconcile/lock')).acquire({ waitMs: 0, holder });
    try {
      const a = applyWithLog(['apply', t.spec, '--root', t.root, '--yes', '--lock-timeout', '3s']);
      const log = await a.until('waiting for the lock');
      expect(a.running()).toBe(true);
      const line = log.split('\n').find((l) => l.includes('waiting for the lock'))!;
      expect(line).toContain(`is held by holder-host (pid ${process.pid}, plan feed4242, since `);
      expect(line).toContain(path.join(t.root, 'var/lib/reconcile/lock'));
      // Said on the first refusal, not after a poll interval: what it had waited is under a second.
      expect(line).toMatch(/waited \d{1,3} ms, giving up in [1-3]s \(--lock-timeout\)$/);
      expect(await a.exited).toBe(1);
      const end = a.log();
      expect(end).toMatch(/held by holder-host \(pid \d+, plan feed4242.*gave up after 3s/);
      expect(end).not.toMatch(/^\s+at /m);
      expect(readFileSync(path.join(t.root, 'etc/timezone'), 'utf8')).toBe('Etc/UTC\n');
    } finally {
      await held.release();
    }
  });

  it('--lock-timeout 0 fails at once, without a wait announcement; then a free lock applies', async () => {
    const held = await createLocalHostLock(path.join(t.root, 'var/lib/reconcile/lock')).acquire({ waitMs: 0, holder });
    try {
      const r = await runCli(['apply', t.spec, '--root', t.root, '--yes', '--lock-timeout', '0']);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain('held by holder-host');
      expect(r.stderr).toContain('not waiting (wait is 0)');
      expect(r.stderr).not.toContain('waiting for the lock');
    } finally {
      await held.release();
    }
    expect((await runCli(['apply', t.spec, '--root', t.root, '--yes', '--lock-timeout', '0'])).exitCode).toBe(0);
  });

  it('--lock-timeout beats the spec\'s lock.wait, and bad values are refused in words', async () => {
    appendFileSync(t.spec, 'lock: {wait: 10m}\n');
    const held = await createLocalHostLock(path.join(t.root, 'var/lib/reconcile/lock')).acquire({ waitMs: 0, holder });
    try {
      const r = await runCli(['apply', t.spec, '--root', t.root, '--yes', '--lock-timeout', '1s']);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain('gave up after 1s');
    } finally {
      await held.release();
    }
    for (const bad of ['-1s', '10', 'soon', '1y', '999999h']) {
      const r = await runCli(['apply', t.spec, '--root', t.root, '--yes', `--lock-timeout=${bad}`]);
      expect(r.exitCode, bad).toBe(1);
      expect(r.stderr, bad).toContain(`--lock-timeout takes a duration such as 500ms, 30s or 5m (0: do not wait), not "${bad}"`);
    }
  });

  it('the announcement repeats while the wait goes on, each naming the holder (acquire with a short repeat)', async () => {
    const file = path.join(t.root, 'var/lib/reconcile/lock');
    const held = await createLocalHostLock(file).acquire({ waitMs: 0, holder });
    const seen: LockWait[] = [];
    try {
      const err = await createLocalHostLock(file)
        .acquire({ waitMs: 1_500, holder: { ...holder, host: 'waiter' }, announceEveryMs: 300, onWait: (w) => seen.push(w) })
        .then(() => undefined, (e: unknown) => e as Error);
      expect(err?.message).toContain('gave up after 1500 ms');
    } finally {
      await held.release();
    }
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen[0]!.waitedMs).toBeLessThan(1000);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.waitedMs - seen[i - 1]!.waitedMs).toBeGreaterThanOrEqual(300);
    for (const w of seen) {
      expect(w.holder).toMatchObject({ host: 'holder-host', plan: 'feed4242' });
      expect(w.held).toContain('is held by holder-host');
      expect(w.timeoutMs).toBe(1_500);
    }
  });
});

describe('a held Redis lease', () => {
  const ctx = useRedis();

  it('is announced in the log and as a lock_wait event; exit 1 after --lock-timeout naming the holder, the URL never shown', async () => {
    const redis = ctx.server;
    appendFileSync(t.spec, 'lock: {redis: {env: CMSG_REDIS_URL}, ttl: 5s}\n');
    const env = { CMSG_REDIS_URL: redis.url };
    const held = await createRedisHostLock(redis.url, { ttlMs: 30_000, hostName: 'nfs1' }).acquire({ waitMs: 0, holder });
    try {
      const a = applyWithLog(['apply', t.spec, '--root', t.root, '--yes', '--lock-timeout', '2s', '--format', 'json'], env);
      const log = await a.until('waiting for the lock');
      expect(a.running()).toBe(true);
      expect(log).toMatch(/waiting for the lock: host lock reconcile:host:nfs1 is held by holder-host \(pid \d+, plan feed4242, since \d{4}-\d\d-\d\dT[\d:.]+Z\); waited \d{1,3} ms/);
      expect(await a.exited).toBe(1);
      expect(a.log()).toContain('gave up after 2s');
      const ev = events(a.stdout());
      expect(ev.map((e) => e.type)).toEqual(['version', 'lock_wait', 'diagnostic', 'apply_done']);
      expect(ev[1]).toMatchObject({ holder: { host: 'holder-host', pid: process.pid, plan: 'feed4242' }, timeoutMs: 2000 });
      expect(String(ev[2]!.message)).toContain('held by holder-host');
      expect(a.stdout() + a.log()).not.toContain(redis.url);
    } finally {
      await held.release();
    }
  });
});
