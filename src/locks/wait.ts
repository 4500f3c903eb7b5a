/** The waiting part of acquisition, shared by every backend: poll with capped, jittered backoff. */
import type { AcquireOptions, HeldBy } from './types.js';

export type Attempt<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      holder: HeldBy | undefined;
      /** Who holds it, in words ("lock file F is held by web1 (pid 42, since T)"), for the wait announcements. */
      held: string;
      /** Builds the busy message from the time waited. */
      busy: (waitedMs: number) => Error;
      /** The holder's remaining lease, when known: no point sleeping much longer than that. */
      retryInMs?: number;
    };

const FIRST_DELAY_MS = 25;
const MAX_DELAY_MS = 1000;
export const DEFAULT_ANNOUNCE_EVERY_MS = 10_000;

export async function acquireWithWait<T>(
  waitMs: number,
  signal: AbortSignal | undefined,
  attempt: () => Promise<Attempt<T>>,
  observe: Pick<AcquireOptions, 'onWait' | 'announceEveryMs'> = {},
): Promise<T> {
  const started = performance.now();
  const deadline = started + Math.max(0, waitMs);
  let delay = FIRST_DELAY_MS;
  let announcedAt: number | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const r = await attempt();
    if (r.ok) return r.value;
    const now = performance.now();
    if (now >= deadline) throw r.busy(Math.round(Math.max(0, waitMs)));
    // Said at once, then again every so often: a wait nobody hears about looks like a hang.
    if (observe.onWait && (announcedAt === undefined || now - announcedAt >= (observe.announceEveryMs ?? DEFAULT_ANNOUNCE_EVERY_MS))) {
      announcedAt = now;
      observe.onWait({ held: r.held, holder: r.holder, waitedMs: Math.round(now - started), timeoutMs: Math.max(0, waitMs) });
    }
    // Jitter keeps many waiters from polling in lockstep.
    let sleepMs = delay * (0.75 + Math.random() * 0.5);
    if (r.retryInMs !== undefined && r.retryInMs >= 0) sleepMs = Math.min(sleepMs, r.retryInMs + 5);
    sleepMs = Math.max(1, Math.min(sleepMs, deadline - now));
    await sleep(sleepMs, signal);
    delay = Math.min(delay * 1.6, MAX_DELAY_MS);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
