/**
 * The lock interface the applier uses. Redis and the local lock file implement the same shape,
 * so apply does not care which backend protects it.
 */

export interface HolderInfo {
  host: string;
  pid: number;
  /** Plan digest, so contention can say which change is in flight. */
  plan?: string;
  /** ISO time. On acquisition the lock records the moment it was granted, not the value passed in. */
  since: string;
}

export interface LockHandle {
  readonly key: string;
  /** Fencing token: strictly increasing across all acquisitions of this lock. */
  readonly token: number;
  /** True once the lease is known or feared gone (keep-alive refused or failed for too long, assertHeld failed). */
  readonly lost: boolean;
  /** Checks with the backend that this lease still holds; throws LockLostError otherwise. */
  assertHeld(): Promise<void>;
  /** Idempotent. Never throws for backend trouble: an unreleased lease expires by itself. */
  release(): Promise<void>;
}

export interface AcquireOptions {
  /** How long to wait for a busy lock; 0 = fail at once. */
  waitMs: number;
  holder: HolderInfo;
  signal?: AbortSignal;
  /** Told at once when the lock is busy, then every `announceEveryMs` (default 10 s) while waiting. */
  onWait?: (wait: LockWait) => void;
  announceEveryMs?: number;
}

/** A wait for a busy lock, as it goes on. */
export interface LockWait {
  /** Who holds it, in words: "lock file F is held by web1 (pid 42, plan 3f2a9c, since T)". */
  held: string;
  holder: HeldBy | undefined;
  waitedMs: number;
  /** How long the whole wait may take. */
  timeoutMs: number;
}

export interface HostLock {
  /** Throws LockBusyError naming the holder when waitMs passes, LockBackendError when the backend is unusable. */
  acquire(opts: AcquireOptions): Promise<LockHandle>;
}

/** What a lock currently records about its holder (for `reconcile doctor`). */
export interface HeldBy extends HolderInfo {
  token?: number;
}

export interface InspectableLock extends HostLock {
  /** Who holds the lock now, or null when it is free. */
  holder(): Promise<HeldBy | null>;
}

/**
 * Base class of everything this module throws on purpose. Messages are one line, meant to be
 * printed to the user verbatim (no stack).
 */
export class LockError extends Error {
  override name = 'LockError';
}

export class LockBusyError extends LockError {
  override name = 'LockBusyError';
  constructor(
    message: string,
    readonly key: string,
    /** The holder named in the message, when it could be read. */
    readonly holder: HeldBy | undefined,
    readonly waitedMs: number,
  ) {
    super(message);
  }
}

export class LockLostError extends LockError {
  override name = 'LockLostError';
  constructor(
    message: string,
    readonly key: string,
    readonly token: number,
  ) {
    super(message);
  }
}

export type LockBackendReason = 'unreachable' | 'timeout' | 'auth' | 'wrongtype' | 'config' | 'io' | 'other';

export class LockBackendError extends LockError {
  override name = 'LockBackendError';
  constructor(
    message: string,
    readonly reason: LockBackendReason,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** "web1 (pid 4242, plan 3f2a9c, since 2025-01-01T10:00:00.000Z)" */
export function describeHolder(h: HeldBy | undefined): string {
  if (!h) return 'an unknown holder';
  const parts = [`pid ${h.pid}`];
  if (h.plan) parts.push(`plan ${h.plan}`);
  if (h.since) parts.push(`since ${h.since}`);
  return `${h.host} (${parts.join(', ')})`;
}

/** Reads a holder record written by this module; undefined for anything else. */
export function parseHolder(text: string | null | undefined): HeldBy | undefined {
  if (!text) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.host !== 'string' || typeof o.pid !== 'number') return undefined;
  const out: HeldBy = { host: o.host, pid: o.pid, since: typeof o.since === 'string' ? o.since : '' };
  if (typeof o.plan === 'string') out.plan = o.plan;
  if (typeof o.token === 'number') out.token = o.token;
  return out;
}

export function formatWait(ms: number): string {
  if (ms <= 0) return 'not waiting (wait is 0)';
  return ms % 1000 === 0 ? `gave up after ${ms / 1000}s` : `gave up after ${ms} ms`;
}
