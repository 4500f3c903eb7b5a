/**
 * A Host reads the files of a local filesystem on the main thread (fast: no thread-pool round
 * trips), and everything that could block there through the pool: a FIFO, a path a link puts on
 * a mount whose server stopped answering, a mount a command made after the mount table was read.
 * A blocked main thread would stop every timer, the step watchdog's among them. Each case runs in
 * a child process: here, a read that blocks would hang the test runner itself.
 */
import { afterEach, describe, expect } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from './helpers/cli.js';
import { bindfsMount, killBackground, type BindfsMount } from './helpers/diagMounts.js';
import { itNeeding } from './helpers/prereq.js';

const HOST_JS = pathToFileURL(path.join(REPO, 'dist', 'host', 'host.js')).href;
const dirs: string[] = [];
const mounts: BindfsMount[] = [];
afterEach(async () => {
  await Promise.all(mounts.splice(0).map((m) => m.cleanup()));
  await killBackground();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'reconcile-blocking-'));
  dirs.push(d);
  return d;
}

/**
 * Runs `body` (a module body with `host` bound to new Host(root)) in a child node and prints what
 * it returns. In it, `race(p)` is what `p` gives, or `timer` when a 300 ms timer fires first: a
 * main thread that blocked fires none.
 */
function inChild(root: string, body: string): Promise<string> {
  const script = `
    const { Host } = await import(${JSON.stringify(HOST_JS)});
    const host = new Host(${JSON.stringify(root)});
    host.probeDeadlineMs = 500;
    const race = (p) => Promise.race([p.then(String, (e) => 'error: ' + e.message), new Promise((r) => setTimeout(() => r('timer'), 300))]);
    const answer = (async () => { ${body} })();
    process.stdout.write(String(await answer.catch((e) => 'error: ' + e.message)));
    process.kill(process.pid, 'SIGKILL'); // not exit(): exit waits for a pool thread the read may hold`;
  return new Promise((resolve) => {
    // SIGKILL: a thread waiting on a stopped FUSE daemon ignores a SIGTERM.
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 8_000, killSignal: 'SIGKILL' }, (_e, stdout) => resolve(stdout || 'blocked (killed after 8 s)'));
  });
}

const needs = { root: 'FUSE mounts with bindfs', commands: { bindfs: 'bindfs', mkfifo: 'coreutils', pgrep: 'procps', pkill: 'procps', umount: 'mount' } };

describe('file work that could block never runs on the main thread', () => {
  itNeeding(needs, 'a FIFO under --root is read through the pool: the timer fires, the read waits for a writer', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'etc'));
    writeFileSync(path.join(root, 'etc', 'hosts'), '127.0.0.1 localhost\n');
    execFileSync('mkfifo', [path.join(root, 'etc', 'exports')]);
    // The first read resolves /etc and loads the mount table: the second would take the fast path.
    expect(await inChild(root, "await host.read('/etc/hosts'); return race(host.read('/etc/exports'));")).toBe('timer');
    expect(await inChild(root, "return race(host.read('/etc/hosts'));")).toBe('127.0.0.1 localhost\n');
  }, 30_000);

  itNeeding(needs, 'on the live host, a file a link puts on a mount that stopped answering: the timer fires', async () => {
    const m = await bindfsMount();
    mounts.push(m);
    const dir = tempDir();
    symlinkSync(path.join(m.mountPoint, 'file'), path.join(dir, 'app.conf'));
    symlinkSync(m.mountPoint, path.join(dir, 'share'));
    expect(await inChild('/', `return race(host.read(${JSON.stringify(path.join(dir, 'app.conf'))}));`)).toBe('x');
    m.freeze();
    // Judged by the link's own directory, both look local; followed, they reach the frozen mount.
    expect(await inChild('/', `await host.read(${JSON.stringify(path.join(dir, 'nothing'))}); return race(host.read(${JSON.stringify(path.join(dir, 'app.conf'))}));`)).toBe('timer');
    expect(await inChild('/', `return race(host.lstat(${JSON.stringify(path.join(dir, 'share', 'file'))}));`)).toBe('timer');
  }, 60_000);

  itNeeding(needs, 'a mount a command made after the mount table was read is probed, not read on the main thread', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'etc'));
    mkdirSync(path.join(root, 'mnt'));
    writeFileSync(path.join(root, 'etc', 'hosts'), 'x\n');
    const src = tempDir();
    writeFileSync(path.join(src, 'file'), 'y');
    const mnt = path.join(root, 'mnt');
    // The child reads (mount table loaded, /mnt resolved), mounts bindfs through host.exec, freezes
    // its daemon, then reads on the new mount: the guard's probe must see it and refuse in words.
    const out = await inChild(
      root,
      `await host.read('/etc/hosts'); await host.lstat('/mnt/file');
       const r = await host.exec(['bindfs', ${JSON.stringify(src)}, ${JSON.stringify(mnt)}]);
       if (!r.ok) return 'bindfs failed: ' + r.stderr;
       const { execFileSync } = await import('node:child_process');
       const pid = execFileSync('pgrep', ['-f', 'bindfs ' + ${JSON.stringify(src)}], { encoding: 'utf8' }).trim().split('\\n')[0];
       process.kill(Number(pid), 'SIGSTOP');
       return race(host.read('/mnt/file'));`,
    );
    // The child may have ended before it woke the daemon: wake it, detach the mount, end it.
    const quietly = (argv: string[]) => {
      try {
        execFileSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
      } catch {
        // nothing to do: not there, or gone already
      }
    };
    quietly(['pkill', '-CONT', '-f', `bindfs ${src}`]);
    quietly(['umount', '-l', mnt]);
    quietly(['pkill', '-f', `bindfs ${src}`]);
    // The timer fires while the 500 ms probe waits: the main thread was free.
    expect(out).toBe('timer');
  }, 60_000);
});
