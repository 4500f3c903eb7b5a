/**
 * Cross-process behaviour: the other holder is a real child node process running the lock code
 * (src/locks transpiled to a temp dir), so exclusion and crash recovery are tested for real.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLocalHostLock, createRedisHostLock, LockBusyError, LockLostError, type HolderInfo } from '../src/locks/index.js';
import { refusal, sleep } from './helpers/locks.js';
import { startRedis, type RedisServer } from './helpers/redis.js';

const repo = path.resolve(import.meta.dirname, '..');
let work: string;
let childMain: string;
const children = new Set<ChildProcess>();
const me = (plan = 'parent-plan'): HolderInfo => ({ host: os.hostname(), pid: process.pid, plan, since: new Date().toISOString() });

const CHILD = `
import { createLocalHostLock, createRedisHostLock } from './locks/index.js';
const [kind, target, waitMs, ttlMs, keyPrefix] = process.argv.slice(2);
const lock = kind === 'local'
  ? createLocalHostLock(target)
  : createRedisHostLock(target, { ttlMs: Number(ttlMs), keyPrefix, hostName: 'shared' });
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
try {
  const h = await lock.acquire({ waitMs: Number(waitMs), holder: { host: 'child', pid: process.pid, plan: 'child-plan', since: new Date().toISOString() } });
  say({ held: true, token: h.token });
  process.stdin.on('data', async (d) => {
    if (String(d).includes('release')) { await h.release(); say({ released: true }); process.exit(0); }
  });
} catch (e) {
  say({ held: false, name: e.name, message: e.message });
  process.exit(3);
}
`;

beforeAll(async () => {
  // Transpile src/locks so a plain node child can run the very same code.
  work = await mkdtemp(path.join(os.tmpdir(), 'reconcile-locks-proc-'));
  const out = path.join(work, 'locks');
  await mkdir(out);
  const srcDir = path.join(repo, 'src/locks');
  for (const f of await readdir(srcDir)) {
    if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
    const js = ts.transpileModule(await readFile(path.join(srcDir, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    await writeFile(path.join(out, f.replace(/\.ts$/, '.js')), js);
  }
  await writeFile(path.join(work, 'package.json'), '{"type":"module"}');
  await symlink(path.join(repo, 'node_modules'), path.join(work, 'node_modules'));
  childMain = path.join(work, 'child.js');
  await writeFile(childMain, CHILD);
});

afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

interface Child {
  proc: ChildProcess;
  /** Next JSON line the child prints. */
  next(): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

function runChild(args: string[]): Child {
  const proc = spawn(process.execPath, [childMain, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(proc);
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return {
    proc,
    exited,
    next: async () => {
      const timeout = new Promise<never>((_, rej) => setTimeout(() => rej(new Error('child said nothing within 10s')), 10_000).unref());
      const r = await Promise.race([lines.next(), timeout]);
      if (r.done) throw new Error('child exited without output');
      return JSON.parse(r.value) as Record<string, unknown>;
    },
  };
}



describe('local lock file across processes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'reconcile-locallock-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('excludes a second process, names the holder, and hands over on release', async () => {
    const lockPath = path.join(dir, 'a/var/lib/reconcile/lock');
    const child = runChild(['local', lockPath, '0']);
    const got = await child.next();
    expect(got).toMatchObject({ held: true, token: 1 });
    const onDisk = JSON.parse(await readFile(lockPath, 'utf8'));
    expect(onDisk).toMatchObject({ host: 'child', pid: child.proc.pid, plan: 'child-plan', token: 1 });

    const lock = createLocalHostLock(lockPath);
    const err = await refusal(lock.acquire({ waitMs: 0, holder: me() }));
    expect(err.message).toMatch(new RegExp(`^lock file \\S+ is held by child \\(pid ${child.proc.pid}, plan child-plan, since \\S+\\); not waiting`));
    expect(await lock.holder()).toMatchObject({ host: 'child', pid: child.proc.pid, token: 1 });

    const waiting = lock.acquire({ waitMs: 10_000, holder: me() });
    await new Promise((r) => setTimeout(r, 150));
    child.proc.stdin!.write('release\n');
    expect(await child.next()).toEqual({ released: true });
    const h = await waiting;
    expect(h.token).toBe(2);
    expect(JSON.parse(await readFile(lockPath, 'utf8'))).toMatchObject({ pid: process.pid, token: 2 });

    // Now the child is the one kept out.
    const second = runChild(['local', lockPath, '0']);
    const refused = await second.next();
    expect(refused).toMatchObject({ held: false, name: 'LockBusyError' });
    expect(String(refused.message)).toContain(`(pid ${process.pid}, plan parent-plan`);
    expect(await second.exited).toBe(3);

    await h.assertHeld();
    await h.release();
    await expect(readFile(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await readFile(`${lockPath}.fence`, 'utf8')).trim()).toBe('2');
  });

  it('takes over the lock of a killed holder (stale pid)', async () => {
    const lockPath = path.join(dir, 'b/lock');
    const child = runChild(['local', lockPath, '0']);
    const got = await child.next();
    expect(got.held).toBe(true);
    child.proc.kill('SIGKILL');
    await child.exited;
    expect(JSON.parse(await readFile(lockPath, 'utf8')).pid).toBe(child.proc.pid); // left behind

    const h = await createLocalHostLock(lockPath).acquire({ waitMs: 0, holder: me() });
    expect(h.token).toBeGreaterThan(got.token as number);
    expect(JSON.parse(await readFile(lockPath, 'utf8')).pid).toBe(process.pid);
    expect((await readdir(path.dirname(lockPath))).sort()).toEqual(['lock', 'lock.fence']);
    await h.release();
  });

  it('treats a reused pid (other start time) as stale but a live pid as held', async () => {
    const lockPath = path.join(dir, 'c/lock');
    await mkdir(path.dirname(lockPath), { recursive: true });
    const sleeper = spawn('sleep', ['30']);
    children.add(sleeper);
    const live = { id: 'x', host: 'elsewhere', pid: sleeper.pid, since: '2020-01-01T00:00:00.000Z' };
    await writeFile(lockPath, JSON.stringify(live));
    await expect(createLocalHostLock(lockPath).acquire({ waitMs: 0, holder: me() })).rejects.toThrow(`held by elsewhere (pid ${sleeper.pid}`);

    await writeFile(lockPath, JSON.stringify({ ...live, startTime: 1 }));
    const h = await createLocalHostLock(lockPath).acquire({ waitMs: 0, holder: me() });
    await h.release();
  });

  it('does not touch a file it cannot read as a lock record', async () => {
    const lockPath = path.join(dir, 'd/lock');
    await mkdir(path.dirname(lockPath), { recursive: true });
    await writeFile(lockPath, 'garbage');
    await expect(createLocalHostLock(lockPath).acquire({ waitMs: 0, holder: me() })).rejects.toThrow(/is held by something that is not a reconcile lock record/);
    expect(await readFile(lockPath, 'utf8')).toBe('garbage');
  });

  it('reports a lost lock when the file is removed or replaced, and release leaves the new owner alone', async () => {
    const lockPath = path.join(dir, 'e/lock');
    const lock = createLocalHostLock(lockPath);
    const h = await lock.acquire({ waitMs: 0, holder: me() });
    await rm(lockPath);
    const other = await lock.acquire({ waitMs: 0, holder: { ...me(), plan: 'other' } });
    await expect(h.assertHeld()).rejects.toBeInstanceOf(LockLostError);
    expect(h.lost).toBe(true);
    await h.release();
    expect(JSON.parse(await readFile(lockPath, 'utf8')).plan).toBe('other');
    await other.release();
  });
});

describe('redis host lock across processes', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('a SIGKILLed holder is replaced within TTL + keep-alive interval', async () => {
    const ttl = 900;
    const child = runChild(['redis', redis.url, '0', String(ttl), 'proc:']);
    const got = await child.next();
    expect(got.held).toBe(true);
    const lock = createRedisHostLock(redis.url, { ttlMs: ttl, keyPrefix: 'proc:', hostName: 'shared' });
    await expect(lock.acquire({ waitMs: 0, holder: me() })).rejects.toThrow(`held by child (pid ${child.proc.pid}`);
    child.proc.kill('SIGKILL');
    await child.exited;
    const t0 = performance.now();
    const h = await lock.acquire({ waitMs: 5000, holder: me() });
    expect(performance.now() - t0).toBeLessThan(ttl + ttl / 3 + 300);
    expect(h.token).toBeGreaterThan(got.token as number);
    await h.release();
  });
});
