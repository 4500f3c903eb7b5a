import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { probeMounts } from '../src/host/probe.js';
import type { MountSpec } from '../src/resources/mounts/index.js';
import { MountBed, findmnt, mountId } from './helpers/mounts.js';
import { describeNeeding, type Needs } from './helpers/prereq.js';
import { DEFAULT_PROBE_DEADLINE_MS } from '../src/resources/mounts/observe.js';
import type { Plan } from '../src/plan/types.js';

const needs: Needs = { root: 'real mounts', commands: { mount: 'mount', findmnt: 'util-linux', losetup: 'mount', 'mkfs.ext4': 'e2fsprogs', bindfs: 'bindfs' } };
const suite = (name: string, body: () => void) => describeNeeding(needs, name, body);

suite('mounts for real under a temp --root (tmpfs, bind, loop ext4)', () => {
  let bed: MountBed;
  const real = (p: string) => bed.real(p);
  const fstab = () => readFileSync(real('/etc/fstab'), 'utf8');
  const plan = (mounts: MountSpec[]) => bed.plan(mounts);
  const apply = (what: Plan | MountSpec[]) => bed.apply(what);

  beforeEach(() => {
    bed = new MountBed();
    writeFileSync(real('/etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\nshare:x:1001:1001::/home/share:/bin/sh\n');
    writeFileSync(real('/etc/group'), 'root:x:0:\nshare:x:1001:\n');
  });
  afterEach(() => {
    bed.cleanup();
  });

  it('mounts a tmpfs, remounts it with a new size in place, unmounts it, removes it from fstab', async () => {
    const spec: MountSpec = { path: '/mnt/scratch', source: 'tmpfs', type: 'tmpfs', options: ['size=16m', 'mode=0755', 'uid=share'] };
    const p1 = await plan([spec]);
    expect(p1.changes.map((c) => [c.address, c.action, c.risk])).toEqual([['mounts[/mnt/scratch]', 'create', 'none']]);
    const ran = await apply(p1);
    expect(ran.filter((r) => r.error)).toEqual([]);
    const fm = findmnt(real('/mnt/scratch'))!;
    expect(fm.fstype).toBe('tmpfs');
    expect(fm.options).toContain('size=16384k');
    expect(fm.options).toContain('uid=1001');
    expect(fstab()).toBe('tmpfs\t/mnt/scratch\ttmpfs\tsize=16m,mode=0755,uid=1001\t0\t0\n');
    expect((await plan([spec])).changes).toEqual([]);

    const id = mountId(real('/mnt/scratch'));
    const bigger = { ...spec, options: ['size=32m', 'mode=0755', 'uid=share'] };
    const p2 = await plan([bigger]);
    expect(p2.changes.map((c) => [c.action, c.risk, c.steps.map((s) => s.op)])).toEqual([
      ['update', 'reload', ['file.write', 'mounts.remount']],
    ]);
    expect((await apply(p2)).filter((r) => r.error)).toEqual([]);
    expect(findmnt(real('/mnt/scratch'))!.options).toContain('size=32768k');
    expect(mountId(real('/mnt/scratch'))).toBe(id);
    expect((await plan([bigger])).changes).toEqual([]);

    const p3 = await plan([{ ...bigger, state: 'unmounted' }]);
    expect(p3.changes.map((c) => [c.risk, c.steps.map((s) => s.op)])).toEqual([['disruptive', ['mounts.umount']]]);
    await apply(p3);
    expect(findmnt(real('/mnt/scratch'))).toBeNull();
    expect(fstab()).toBe('tmpfs\t/mnt/scratch\ttmpfs\tsize=32m,mode=0755,uid=1001\t0\t0\n');

    // Mounted again, then left the spec while owned: line removed and unmounted.
    await apply([bigger]);
    expect(findmnt(real('/mnt/scratch'))).not.toBeNull();
    const p4 = await plan([]);
    expect(p4.changes.map((c) => [c.action, c.risk])).toEqual([['delete', 'disruptive']]);
    expect((await apply(p4)).filter((r) => r.error)).toEqual([]);
    expect(findmnt(real('/mnt/scratch'))).toBeNull();
    expect(fstab()).toBe('');
  });

  it('bind-mounts a directory of the root and sees its files; a second plan is empty', async () => {
    mkdirSync(real('/srv/data'), { recursive: true });
    writeFileSync(real('/srv/data/hello'), 'from the source\n');
    const spec: MountSpec = { path: '/export/data', source: '/srv/data', type: 'none', options: ['bind'] };
    expect((await apply([spec])).filter((r) => r.error)).toEqual([]);
    expect(readFileSync(real('/export/data/hello'), 'utf8')).toBe('from the source\n');
    expect(findmnt(real('/export/data'))!.source).toMatch(/\[.*\/srv\/data\]$/);
    expect((await plan([spec])).changes).toEqual([]);
    // Read-only bind: a remount of the per-mount flag only.
    const ro = { ...spec, options: ['bind', 'ro'] };
    const p = await plan([ro]);
    expect(p.changes[0]!.steps.map((s) => s.op)).toEqual(['file.write', 'mounts.remount']);
    await apply(p);
    expect(findmnt(real('/export/data'))!.options.split(',')).toContain('ro');
    expect((await plan([ro])).changes).toEqual([]);
  });

  it('mounts a loop ext4 image, remounts it read-only, and unmounts it (loop device released)', async () => {
    mkdirSync(real('/var/lib/images'), { recursive: true });
    const img = real('/var/lib/images/disk.ext4');
    execFileSync('truncate', ['-s', '16M', img]);
    execFileSync('mkfs.ext4', ['-q', '-F', img]);
    const spec: MountSpec = { path: '/mnt/disk', source: '/var/lib/images/disk.ext4', type: 'ext4', options: ['loop', 'noatime'] };
    expect((await apply([spec])).filter((r) => r.error)).toEqual([]);
    const fm = findmnt(real('/mnt/disk'))!;
    expect(fm.fstype).toBe('ext4');
    expect(fm.source).toMatch(/^\/dev\/loop\d+$/);
    expect(fm.options).toContain('noatime');
    expect((await plan([spec])).changes).toEqual([]);
    const ro = { ...spec, options: ['loop', 'noatime', 'ro'] };
    const p = await plan([ro]);
    expect(p.changes.map((c) => c.risk)).toEqual(['reload']);
    await apply(p);
    expect(findmnt(real('/mnt/disk'))!.options.split(',')).toContain('ro');
    expect((await plan([ro])).changes).toEqual([]);
    await apply([{ ...ro, state: 'absent' }]);
    expect(findmnt(real('/mnt/disk'))).toBeNull();
    expect(fstab()).toBe('');
    expect(execFileSync('losetup', ['-j', img], { encoding: 'utf8' }).trim()).toBe('');
  });

  it('a busy unmount fails naming the holding pid; lazyUnmount detaches it', async () => {
    const spec: MountSpec = { path: '/mnt/busy', source: 'tmpfs', type: 'tmpfs', options: ['size=1m'] };
    await apply([spec]);
    mkdirSync(real('/mnt/busy/inside'));
    const sleeper = spawn('sleep', ['300'], { cwd: real('/mnt/busy/inside'), stdio: 'ignore' });
    try {
      const ran = await apply([{ ...spec, state: 'unmounted' }]);
      const failed = ran.find((r) => r.error)!;
      expect(failed.id).toBe('mounts.umount:/mnt/busy');
      expect(failed.error!.message).toContain(`pid ${sleeper.pid} (sleep: cwd)`);
      expect(findmnt(real('/mnt/busy'))).not.toBeNull();
      const lazy = await apply([{ ...spec, state: 'unmounted', lazyUnmount: true }]);
      expect(lazy.filter((r) => r.error)).toEqual([]);
      expect(findmnt(real('/mnt/busy'))).toBeNull();
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('keeps a hand-written fstab byte for byte except the managed line; no duplicate; second plan empty', async () => {
    const foreign =
      '# /etc/fstab: static file system information.\n' +
      '#\n# <file system> <mount point>   <type>  <options>       <dump>  <pass>\n' +
      'UUID=2f0c9a4e-6a3b-4b8e-9d1e-3b6f1c2d4e5f /               ext4    errors=remount-ro 0       1\n' +
      'LABEL=My\\040Data\t/srv/my\\040data\text4\tdefaults,noatime,noauto\t0\t2\n' +
      '\n   # hand-written, indented\n' +
      'tmpfs   /mnt/cache   tmpfs   size=8m   0   0\n' +
      '/dev/sr0 /media/cdrom0 udf,iso9660 user,noauto 0 0';
    writeFileSync(real('/etc/fstab'), foreign);
    const spec: MountSpec = { path: '/mnt/cache', source: 'tmpfs', type: 'tmpfs', options: ['size=12m', 'nosuid'] };
    const p = await plan([spec]);
    // The one diff of fstab, at the real line, with its context; the last line has no newline and keeps none.
    expect(p.files).toEqual([
      {
        path: '/etc/fstab',
        diff:
          '--- a/etc/fstab\n+++ b/etc/fstab\n@@ -5,5 +5,5 @@\n LABEL=My\\040Data\t/srv/my\\040data\text4\tdefaults,noatime,noauto\t0\t2\n \n    # hand-written, indented\n' +
          '-tmpfs   /mnt/cache   tmpfs   size=8m   0   0\n+tmpfs   /mnt/cache   tmpfs   size=12m,nosuid   0   0\n /dev/sr0 /media/cdrom0 udf,iso9660 user,noauto 0 0\n\\ No newline at end of file\n',
        lines: { 'mounts[/mnt/cache]': { removed: [8], added: [8] } },
      },
    ]);
    expect((await apply(p)).filter((r) => r.error)).toEqual([]);
    expect(fstab()).toBe(foreign.replace('size=8m   0', 'size=12m,nosuid   0'));
    expect(findmnt(real('/mnt/cache'))!.options).toContain('size=12288k');
    expect((await plan([spec])).changes).toEqual([]);
  });

  it('NFS and CIFS up to the mount argv (fake `mount` on PATH: this kernel has no NFS or CIFS client)', async () => {
    const bin = real('/fakebin');
    mkdirSync(bin);
    const log = real('/mount.log');
    // Records its argv, then mounts a tmpfs at the target so the step's own re-check sees a mount.
    writeFileSync(
      join(bin, 'mount'),
      `#!/bin/sh\nprintf '%s\\n' "$@" >> ${log}\necho --- >> ${log}\nfor t; do :; done\nexec /usr/bin/mount -t tmpfs fake "$t"\n`,
    );
    chmodSync(join(bin, 'mount'), 0o755);
    writeFileSync(real('/etc/fstab'), '# mine\n//192.168.1.107/f /mnt/107f cifs username=share,password=old,iocharset=utf8 0 0\n');
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath}`;
    process.env.TEST_CIFS_PASSWORD = 'hunter2';
    try {
      const specs: MountSpec[] = [
        { path: '/mnt/140share', source: '192.168.1.140:/data/share', type: 'nfs', options: ['nfsvers=3', 'nolock', 'hard', 'timeo=600'] },
        {
          path: '/mnt/107f',
          source: '//192.168.1.107/f',
          type: 'cifs',
          options: ['iocharset=utf8', 'dir_mode=0770', 'file_mode=0660', 'uid=share'],
          credentials: { username: 'share', password: { env: 'TEST_CIFS_PASSWORD' } },
        },
      ];
      const p = await plan(specs);
      expect(JSON.stringify([p.changes, p.files])).not.toMatch(/hunter2|password=old/);
      expect(p.files![0]!.diff).toContain('-//192.168.1.107/f /mnt/107f cifs username=share,password=***,iocharset=utf8 0 0\n');
      expect(p.changes.find((c) => c.address === 'mounts[/mnt/107f]')!.diff).toContain('password=***');
      const ran = await apply(p);
      // Every step ran; the fake `mount` leaves a tmpfs behind, which the applier's re-observation
      // rightly does not take for the NFS and CIFS mounts of the spec.
      expect(ran.filter((r) => r.error).map((r) => [r.id, r.error!.message])).toEqual([
        ['apply', 'the host still differs from the spec after apply: mounts[/mnt/140share], mounts[/mnt/107f]'],
      ]);
      const calls = readFileSync(log, 'utf8').split('---\n').filter(Boolean).map((c) => c.trim().split('\n'));
      expect(calls).toEqual([
        ['-t', 'nfs', '-o', 'nfsvers=3,nolock,hard,timeo=600', '--', '192.168.1.140:/data/share', real('/mnt/140share')],
        ['-t', 'cifs', '-o', `iocharset=utf8,dir_mode=0770,file_mode=0660,uid=1001,credentials=${real('/etc/reconcile/credentials/mnt-107f')}`, '--', '//192.168.1.107/f', real('/mnt/107f')],
      ]);
      const cred = real('/etc/reconcile/credentials/mnt-107f');
      expect(readFileSync(cred, 'utf8')).toBe('username=share\npassword=hunter2\n');
      expect(statSync(cred).mode & 0o777).toBe(0o600);
      expect(statSync(real('/etc/reconcile/credentials')).mode & 0o777).toBe(0o700);
      expect(fstab()).toBe(
        '# mine\n//192.168.1.107/f /mnt/107f cifs iocharset=utf8,dir_mode=0770,file_mode=0660,uid=1001,credentials=/etc/reconcile/credentials/mnt-107f 0 0\n' +
          '192.168.1.140:/data/share\t/mnt/140share\tnfs\tnfsvers=3,nolock,hard,timeo=600\t0\t0\n',
      );
    } finally {
      process.env.PATH = savedPath;
      delete process.env.TEST_CIFS_PASSWORD;
    }
  });
});

suite('a hung mount (bindfs stopped with SIGSTOP)', () => {
  let bed: MountBed | undefined;
  let bindfs: ChildProcess | undefined;
  const real = (p: string) => bed!.real(p);

  afterAll(() => {
    if (!bed) return;
    if (bindfs?.pid) {
      try {
        process.kill(bindfs.pid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    try {
      execFileSync('umount', ['-f', real('/mnt/hung')], { stdio: 'ignore', timeout: 5_000 });
    } catch {
      /* try lazy */
    }
    bed.cleanup();
    bindfs?.kill('SIGKILL');
  });

  it('is reported stale within the deadline, by the probe and the plan; steps touching it are refused', async () => {
    bed = new MountBed();
    mkdirSync(real('/srv/src'), { recursive: true });
    mkdirSync(real('/mnt/hung'), { recursive: true });
    writeFileSync(real('/srv/src/f'), 'x');
    bindfs = spawn('bindfs', ['-f', real('/srv/src'), real('/mnt/hung')], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !findmnt(real('/mnt/hung')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(findmnt(real('/mnt/hung'))!.fstype).toBe('fuse');
    const healthy = await probeMounts([real('/mnt/hung')], 2_000);
    expect(healthy.get(real('/mnt/hung'))!.ok).toBe(true);

    process.kill(bindfs.pid!, 'SIGSTOP');
    const t0 = Date.now();
    const probed = await probeMounts([real('/mnt/hung'), real('/srv')], 1_000);
    expect(Date.now() - t0).toBeLessThan(1_000 + 500);
    expect(probed.get(real('/mnt/hung'))).toMatchObject({ ok: false, error: 'no answer within 1000 ms' });
    expect(probed.get(real('/srv'))!.ok).toBe(true);

    const spec: MountSpec = { path: '/mnt/hung', source: '/srv/src', type: 'fuse.bindfs', options: ['ro'], state: 'mounted' };
    const t1 = Date.now();
    // The real plan path probes with the mounts kind's own deadline (DEFAULT_PROBE_DEADLINE_MS).
    const p = await bed.plan([spec]);
    expect(Date.now() - t1).toBeLessThan(DEFAULT_PROBE_DEADLINE_MS + 1_000);
    expect(p.warnings.join('\n')).toMatch(new RegExp(`/mnt/hung is stale: no answer within ${DEFAULT_PROBE_DEADLINE_MS} ms`));
    const change = p.changes.find((c) => c.address === 'mounts[/mnt/hung]')!;
    expect(change.notes!.join('\n')).toContain('is stale');
    expect(change.steps.some((s) => s.op.startsWith('mounts.'))).toBe(true);
    // Not as a saved plan: the stale note names the probe's own time, which differs per plan.
    const ran = await bed.apply([spec]);
    const refused = ran.find((r) => r.error && r.id.startsWith('mounts.'))!;
    expect(refused.error!.message).toMatch(/does not answer .*not touching a stale mount/);
  });
});
