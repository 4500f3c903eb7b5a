import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createLocalHostLock, UNREADABLE_STALE_MS } from './local.js';

let dir: string;
let lockPath: string;
const children: ChildProcess[] = [];
const holder = { host: 'h', pid: process.pid, since: new Date().toISOString() };
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'reconcile-local-lock-'));
  lockPath = path.join(dir, 'lock');
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('a lock file that is not a lock record', () => {
  it('an old empty file is stale: taken over at once, not after the whole wait', async () => {
    writeFileSync(lockPath, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockPath, old, old);
    const started = Date.now();
    const lock = await createLocalHostLock(lockPath).acquire({ waitMs: 600_000, holder });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('a fresh unparsable file is waited for only until it is a few seconds old', async () => {
    writeFileSync(lockPath, '{"half a rec');
    const started = Date.now();
    const lock = await createLocalHostLock(lockPath).acquire({ waitMs: 600_000, holder });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(UNREADABLE_STALE_MS - 1_500);
    expect(took).toBeLessThan(UNREADABLE_STALE_MS + 3_000);
    await lock.release();
  }, 20_000);

  it('one that a process has open is reported at once, naming the process', async () => {
    writeFileSync(lockPath, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockPath, old, old);
    const fd = openSync(lockPath, 'r');
    const child = spawn('sleep', ['60'], { stdio: [fd, 'ignore', 'ignore'] });
    closeSync(fd);
    children.push(child);
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await expect(createLocalHostLock(lockPath).acquire({ waitMs: 600_000, holder })).rejects.toThrow(
      new RegExp(`lock file ${lockPath} is not a reconcile lock record \\(empty\\) and is open in pid ${child.pid} \\(sleep\\); not taking it over`),
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(readFileSync(lockPath, 'utf8')).toBe('');
  });
});
