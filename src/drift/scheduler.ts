/**
 * The `--every` loop: one check at a time (the next starts only after the previous finished),
 * start-to-start spacing of the interval plus a little jitter (so a fleet on the same timer does
 * not observe in lockstep), and a stop signal that ends the wait at once but lets a running check
 * finish. The clock is injected so tests drive time instead of sleeping.
 */
export interface Clock {
  now(): number;
  /** Resolves after ms, or as soon as signal aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    }),
};

/** A tenth of the interval, at most 30 s: enough to spread a fleet, never enough to skip a beat. */
export function defaultJitterMs(intervalMs: number): number {
  return Math.min(Math.floor(intervalMs / 10), 30_000);
}

export interface EveryOptions {
  intervalMs: number;
  jitterMs?: number;
  clock?: Clock;
  /** In [0, 1): Math.random by default. */
  random?: () => number;
  signal: AbortSignal;
  /** One check; it should report its own failures. One that throws is passed to onError and the loop goes on. */
  check: () => Promise<void>;
  onError?: (e: unknown) => void;
}

/** Runs checks until the signal aborts; returns how many ran. */
export async function runEvery(o: EveryOptions): Promise<number> {
  const clock = o.clock ?? systemClock;
  const random = o.random ?? Math.random;
  const jitterMs = o.jitterMs ?? defaultJitterMs(o.intervalMs);
  let runs = 0;
  while (!o.signal.aborted) {
    const started = clock.now();
    try {
      await o.check();
    } catch (e) {
      o.onError?.(e);
    }
    runs++;
    if (o.signal.aborted) break;
    const wait = Math.max(0, started + o.intervalMs - clock.now()) + Math.floor(random() * jitterMs);
    await clock.sleep(wait, o.signal);
  }
  return runs;
}
