/**
 * Test beds for the diagnostics: a bindfs mount whose daemon can be frozen (a mount that stops
 * answering, as a dead NFS server does), background processes that are always killed, and the
 * diagnostics modules transpiled to plain JS for child node processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exec } from '../../src/host/exec.js';

const started = new Set<ChildProcess>();

/** Starts a background process (argv, no shell) that killBackground() will end. */
export function background(argv: string[]): ChildProcess {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}

export async function killBackground(): Promise<void> {
  await Promise.all(
    [...started].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
          setTimeout(resolve, 3000).unref();
        }),
    ),
  );
}

export function isMounted(mountPoint: string): boolean {
  // Read synchronously on purpose: /proc/self/mountinfo never touches the mounted filesystems.
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === mountPoint);
}

export interface BindfsMount {
  dir: string;
  src: string;
  mountPoint: string;
  pid: number;
  /** SIGSTOP the daemon: every request to the mount now waits. */
  freeze(): void;
  /** Idempotent: resumes the daemon, unmounts (force, then lazy), removes the temp dir. */
  cleanup(): Promise<void>;
}

export async function bindfsMount(): Promise<BindfsMount> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'reconcile-diag-'));
  const src = path.join(dir, 'src');
  const mountPoint = path.join(dir, 'mnt');
  await fsp.mkdir(src);
  await fsp.mkdir(mountPoint);
  await fsp.writeFile(path.join(src, 'file'), 'x');
  // -f keeps bindfs in the foreground: its pid is the daemon's pid.
  const daemon = background(['bindfs', '-f', src, mountPoint]);
  const deadline = Date.now() + 10_000;
  while (!isMounted(mountPoint)) {
    if (Date.now() > deadline || daemon.exitCode !== null) throw new Error(`bindfs did not mount ${mountPoint}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  let cleaned = false;
  return {
    dir,
    src,
    mountPoint,
    pid: daemon.pid!,
    freeze: () => process.kill(daemon.pid!, 'SIGSTOP'),
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      try {
        process.kill(daemon.pid!, 'SIGCONT');
      } catch {
        // already gone
      }
      if (isMounted(mountPoint)) await exec(['umount', '-f', mountPoint], { timeoutMs: 10_000, killGraceMs: 1_000 });
      if (isMounted(mountPoint)) await exec(['umount', '-l', mountPoint], { timeoutMs: 10_000, killGraceMs: 1_000 });
      if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGTERM');
      // Never rm through a mount that may still hang.
      if (!isMounted(mountPoint)) await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}
