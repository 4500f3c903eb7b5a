import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SyncGroup, writeFileAtomic } from './atomic.js';

describe('SyncGroup', () => {
  it('answers each request with a sync that began after it, and shares syncs between concurrent requests', async () => {
    const log: string[] = [];
    const finish: (() => void)[] = [];
    let n = 0;
    const group = new SyncGroup(() => {
      const k = ++n;
      log.push(`start ${k}`);
      return new Promise<void>((resolve) => finish.push(() => (log.push(`end ${k}`), resolve())));
    });
    const tick = () => new Promise((r) => setImmediate(r));
    const a = group.request().then(() => log.push('a'));
    await tick();
    // Sync 1 runs: b and c arrive during it and must wait for sync 2, which they share.
    const b = group.request().then(() => log.push('b'));
    const c = group.request().then(() => log.push('c'));
    await tick();
    finish.shift()!();
    await a;
    await tick();
    finish.shift()!();
    await Promise.all([b, c]);
    expect(log).toEqual(['start 1', 'end 1', 'a', 'start 2', 'end 2', 'b', 'c']);
    expect(n).toBe(2);
  });

  it('fails the requests of a failed sync and still runs the next one', async () => {
    let n = 0;
    const group = new SyncGroup(async () => {
      if (++n === 1) throw new Error('EIO');
    });
    await expect(group.request()).rejects.toThrow('EIO');
    await expect(group.request()).resolves.toBeUndefined();
    expect(n).toBe(2);
  });
});

describe('writeFileAtomic', () => {
  it('writes 64 files of one directory at once, each complete, with its mode', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-atomic-'));
    try {
      await Promise.all(Array.from({ length: 64 }, (_, i) => writeFileAtomic(path.join(dir, `f${i}`), `content ${i}\n`.repeat(100), { mode: 0o640 })));
      for (let i = 0; i < 64; i++) {
        expect(readFileSync(path.join(dir, `f${i}`), 'utf8')).toBe(`content ${i}\n`.repeat(100));
        expect(statSync(path.join(dir, `f${i}`)).mode & 0o777).toBe(0o640);
      }
      expect(readdirSync(dir)).toHaveLength(64); // no temp file left behind
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
