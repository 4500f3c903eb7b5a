/**
 * A spec whose files live on a mount that stopped answering (bindfs with its daemon frozen, as a
 * dead NFS server behaves): plan and apply must not hang, must name the mount, and must change
 * nothing; no process is left behind.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';
import { describeNeeding } from './helpers/prereq.js';

const mounted = (p: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === p);

describeNeeding({ root: 'FUSE mounts', commands: { bindfs: 'bindfs', umount: 'mount' } }, 'a hung mount under the root', () => {
  let t: ReturnType<typeof tempRoot>;
  let daemon: ChildProcess | undefined;
  let mountPoint: string;

  beforeEach(async () => {
    t = tempRoot();
    const src = path.join(t.dir, 'data-src');
    mountPoint = path.join(t.root, 'data');
    mkdirSync(src);
    mkdirSync(mountPoint);
    daemon = spawn('bindfs', ['-f', src, mountPoint], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !mounted(mountPoint); i++) await new Promise((r) => setTimeout(r, 50));
    expect(mounted(mountPoint)).toBe(true);
    process.kill(daemon.pid!, 'SIGSTOP');
    // The kernel answers from its attribute cache for about a second after the last reply.
    await new Promise((r) => setTimeout(r, 1_500));
  });

  afterEach(() => {
    if (daemon?.pid) {
      try {
        process.kill(daemon.pid, 'SIGCONT');
      } catch {}
    }
    for (const flag of ['-f', '-l']) {
      if (mounted(mountPoint)) {
        try {
          execFileSync('umount', [flag, mountPoint], { stdio: 'ignore' });
        } catch {}
      }
    }
    daemon?.kill('SIGKILL');
    t.cleanup();
  });

  it('plan returns within the probe deadline and names the mount', async () => {
    const started = Date.now();
    const r = await runCli(['plan', t.spec, '--root', t.root], { timeoutMs: 30_000 });
    expect(r.exitCode).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000 + 1_000 + 3_000); // probe deadline + 1 s + node start-up
    expect(r.stderr).toContain(`is on the mount ${mountPoint} (fuse`);
    expect(r.stderr).toContain('does not answer');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('apply changes nothing and leaves no process behind', async () => {
    const r = await runCli(['apply', t.spec, '--root', t.root, '--yes'], { timeoutMs: 30_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(mountPoint);
    expect(readFileSync(path.join(t.root, 'etc/timezone'), 'utf8')).toBe('Etc/UTC\n');
    // The probe child that hung on the mount was killed with the CLI, not left waiting.
    const left = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(mountPoint) && !l.includes('bindfs'));
    expect(left).toEqual([]);
  });
});
