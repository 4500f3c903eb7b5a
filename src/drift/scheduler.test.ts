import { describe, expect, it } from 'vitest';
import { defaultJitterMs, runEvery, type Clock } from './scheduler.js';

/** A clock tests drive: sleeps resolve only when advance() passes their deadline. */
class FakeClock implements Clock {
  t = 0;
  private sleepers: { until: number; resolve: () => void }[] = [];
  now = () => this.t;
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const s = { until: this.t + ms, resolve };
      this.sleepers.push(s);
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }
  get sleeping() {
    return this.sleepers.length;
  }
  /** Moves time forward, waking sleepers in order, letting the loop run between wake-ups. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      const next = this.sleepers.sort((a, b) => a.until - b.until)[0];
      if (!next || next.until > end) break;
      this.t = next.until;
      this.sleepers.shift();
      next.resolve();
    }
    this.t = end;
    await flush();
  }
}

const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe('runEvery (fake clock)', () => {
  it('runs a check every interval, start to start, plus jitter', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const starts: number[] = [];
    const done = runEvery({ intervalMs: 1000, jitterMs: 100, random: () => 0.5, clock, signal: ac.signal, check: async () => void starts.push(clock.now()) });
    await clock.advance(3200);
    ac.abort();
    expect(await done).toBe(4);
    expect(starts).toEqual([0, 1050, 2100, 3150]);
  });

  it('never overlaps: a check longer than the interval delays the next one', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    let running = 0;
    let maxRunning = 0;
    const starts: number[] = [];
    const done = runEvery({
      intervalMs: 1000,
      jitterMs: 0,
      clock,
      signal: ac.signal,
      check: async () => {
        starts.push(clock.now());
        maxRunning = Math.max(maxRunning, ++running);
        await clock.sleep(2500, new AbortController().signal); // a slow check
        running--;
      },
    });
    await clock.advance(6000);
    ac.abort();
    await clock.advance(5000); // let the running check finish
    await done;
    expect(maxRunning).toBe(1);
    expect(starts).toEqual([0, 2500, 5000]);
  });

  it('stops at once when the signal comes during the wait', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    let checks = 0;
    const done = runEvery({ intervalMs: 60_000, jitterMs: 0, clock, signal: ac.signal, check: async () => void checks++ });
    await clock.advance(10);
    expect(clock.sleeping).toBe(1);
    ac.abort();
    expect(await done).toBe(1);
    expect(checks).toBe(1);
  });

  it('lets a running check finish when the signal comes during it, then stops', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const events: string[] = [];
    const done = runEvery({
      intervalMs: 1000,
      jitterMs: 0,
      clock,
      signal: ac.signal,
      check: async () => {
        events.push('start');
        await clock.sleep(500, new AbortController().signal);
        events.push('end');
      },
    });
    await clock.advance(100);
    ac.abort();
    await clock.advance(1000);
    expect(await done).toBe(1);
    expect(events).toEqual(['start', 'end']);
  });

  it('goes on after a check that throws, reporting it', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const errors: string[] = [];
    let n = 0;
    const done = runEvery({
      intervalMs: 1000,
      jitterMs: 0,
      clock,
      signal: ac.signal,
      check: async () => {
        if (++n === 1) throw new Error('boom');
      },
      onError: (e) => errors.push((e as Error).message),
    });
    await clock.advance(2500);
    ac.abort();
    expect(await done).toBe(3);
    expect(errors).toEqual(['boom']);
  });

  it('keeps the jitter small', () => {
    expect(defaultJitterMs(1000)).toBe(100);
    expect(defaultJitterMs(15 * 60_000)).toBe(30_000);
  });
});
