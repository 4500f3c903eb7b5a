import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { Host } from '../host/host.js';
import type { HostSpec } from '../spec/types.js';
import { refKey } from '../spec/secrets.js';
import { parseDuration } from '../duration.js';
import type { HolderInfo, LockHandle, LockWait } from '../locks/types.js';
import { STATE_DIR } from './state.js';

export const LOCAL_LOCK_FILE = `${STATE_DIR}/lock`;
const DEFAULT_TTL_MS = 10_000;
const DEFAULT_WAIT_MS = 10 * 60_000;

/** How a caller waits for busy locks: `timeoutMs` (from --lock-timeout) beats the spec's lock.wait. */
export interface LockWaitOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  onWait?: (wait: LockWait) => void;
}

function waitOf(spec: HostSpec, o: LockWaitOptions): number {
  if (o.timeoutMs !== undefined) return o.timeoutMs;
  return spec.lock?.wait !== undefined ? (parseDuration(spec.lock.wait) ?? DEFAULT_WAIT_MS) : DEFAULT_WAIT_MS;
}

/**
 * The read-write locks a plan asks for on shared resources (a PostgreSQL cluster), taken on the
 * same Redis as the host lock; without lock.redis there is nothing shared to coordinate with.
 */
export async function acquireResourceLocks(
  spec: HostSpec,
  secrets: ReadonlyMap<string, string>,
  locks: { name: string; mode: 'read' | 'write' }[],
  holder: HolderInfo,
  wait: LockWaitOptions = {},
): Promise<LockHandle[]> {
  const redis = spec.lock?.redis;
  if (!redis || locks.length === 0) return [];
  const url = secrets.get(refKey(redis));
  if (url === undefined) throw new Error('internal: lock.redis was not resolved');
  const { createRedisRwLock } = await import('../locks/rwlock.js');
  const ttlMs = spec.lock?.ttl !== undefined ? (parseDuration(spec.lock.ttl) ?? DEFAULT_TTL_MS) : DEFAULT_TTL_MS;
  const waitMs = waitOf(spec, wait);
  const { signal, onWait } = wait;
  const held: LockHandle[] = [];
  try {
    // By name, so two applies never take two clusters' locks in opposite orders.
    for (const l of [...locks].sort((a, b) => a.name.localeCompare(b.name))) {
      const rw = createRedisRwLock(url, { ttlMs, name: l.name });
      held.push(await (l.mode === 'write' ? rw.acquireWrite({ waitMs, holder, signal, onWait }) : rw.acquireRead({ waitMs, holder, signal, onWait })));
    }
    return held;
  } catch (e) {
    await Promise.all(held.map((h) => h.release()));
    throw e;
  }
}

/**
 * The host's lock for an apply: a Redis lease (`lock.redis`) shared by every machine that can
 * reach it, else a lock file in the root's var/lib/reconcile that guards this host alone.
 * Contention waits up to --lock-timeout (else `lock.wait`, else 10 minutes), telling `onWait` who
 * holds it meanwhile, and then names the holder.
 */
export async function acquireHostLock(spec: HostSpec, host: Host, secrets: ReadonlyMap<string, string>, holder: HolderInfo, wait: LockWaitOptions = {}): Promise<LockHandle> {
  const lock = spec.lock;
  const waitMs = waitOf(spec, wait);
  const { signal, onWait } = wait;
  if (lock?.redis) {
    const url = secrets.get(refKey(lock.redis));
    if (url === undefined) throw new Error('internal: lock.redis was not resolved');
    const { createRedisHostLock } = await import('../locks/redis.js');
    const ttlMs = lock.ttl !== undefined ? (parseDuration(lock.ttl) ?? DEFAULT_TTL_MS) : DEFAULT_TTL_MS;
    return createRedisHostLock(url, { ttlMs, hostName: spec.host }).acquire({ waitMs, holder, signal, onWait });
  }
  // Parents as a system makes them (0755); the state directory itself is root's alone. Resolved
  // inside the root, like every file of the host.
  await host.ensureDir(path.posix.dirname(STATE_DIR));
  await mkdir(await host.realPath(STATE_DIR, { follow: true, write: true }), { recursive: true, mode: 0o700 });
  const file = await host.realPath(LOCAL_LOCK_FILE, { write: true });
  const { createLocalHostLock } = await import('../locks/local.js');
  return createLocalHostLock(file).acquire({ waitMs, holder, signal, onWait });
}
