/**
 * Mounts against the real kernel and real files, as root under a temp --root: the kernel's own
 * option defaults are not drift, odd but valid sources and mount points round-trip through fstab
 * and mount(8), a hand-written comment on a managed fstab line survives its update, and a quoted
 * UUID=/LABEL= tag is the same source as the unquoted one.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { MountSpec } from '../src/resources/mounts/index.js';
import { KERNEL_DEFAULT_OPTIONS, liveOptionDrift, splitOpt } from '../src/resources/mounts/options.js';
import { parseMountinfo } from '../src/resources/mounts/mountinfo.js';
import { MountBed, findmnt } from './helpers/mounts.js';
import { describeNeeding } from './helpers/prereq.js';

function liveAt(realPath: string) {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).filter((m) => m.realPath === realPath).at(-1)!;
}

describeNeeding(
  { root: 'real mounts', commands: { mount: 'mount', findmnt: 'util-linux', 'mkfs.ext4': 'e2fsprogs', e2label: 'e2fsprogs', blkid: 'util-linux' } },
  'mount values against the real kernel (tmpfs, bind, loop ext4 under a temp --root)',
  () => {
    let bed: MountBed;
    const real = (p: string) => bed.real(p);
    const fstab = () => readFileSync(real('/etc/fstab'), 'utf8');

    beforeEach(() => {
      bed = new MountBed();
      writeFileSync(real('/etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
      writeFileSync(real('/etc/group'), 'root:x:0:\n');
    });
    afterEach(() => {
      bed.cleanup();
    });

    const ext4Image = (p: string) => {
      mkdirSync(join(real(p), '..'), { recursive: true });
      execFileSync('truncate', ['-s', '32M', real(p)]);
      execFileSync('mkfs.ext4', ['-q', '-F', real(p)]);
    };

    /** Plan, apply (the real applier), and plan again: the second plan must be empty (exit 0 for the CLI). */
    async function converges(specs: MountSpec[]): Promise<void> {
      const p1 = await bed.plan(specs);
      expect(p1.changes.length).toBeGreaterThan(0);
      expect((await bed.apply(p1)).filter((r) => r.error)).toEqual([]);
      const p2 = await bed.plan(specs);
      expect(p2.changes.map((c) => `${c.address}: ${c.summary}`)).toEqual([]);
    }

    it('every default in the table is what the kernel hides: absent without it, in sync with it spelled out', () => {
      const types = Object.keys(KERNEL_DEFAULT_OPTIONS);
      expect(types).toEqual(['tmpfs', 'ext4']);
      ext4Image('/img/defaults.ext4');
      for (const type of types) {
        for (const option of KERNEL_DEFAULT_OPTIONS[type]!) {
          const target = real(`/mnt/${type}-${option.replace(/[^a-z0-9]/gi, '_')}`);
          mkdirSync(target, { recursive: true });
          const source = type === 'ext4' ? real('/img/defaults.ext4') : 'tmpfs';
          const extra = type === 'ext4' ? ['loop'] : [];
          execFileSync('mount', ['-t', type, '-o', [...extra, option].join(','), '--', source, target]);
          const live = liveAt(target);
          // data=ordered is shown when given, and hidden when not: both read as the default.
          expect(liveOptionDrift([option], live), `${type} ${option}`).toEqual({ missing: [], clear: [] });
          execFileSync('umount', ['--', target]);
          execFileSync('mount', ['-t', type, '-o', [...extra, 'defaults'].join(','), '--', source, target]);
          const plain = liveAt(target);
          const key = splitOpt(option)[0];
          expect([...plain.mountOptions, ...plain.superOptions].map((o) => splitOpt(o)[0]), `${type} without ${option}`).not.toContain(key);
          expect(liveOptionDrift([option], plain), `${type} ${option} hidden`).toEqual({ missing: [], clear: [] });
          execFileSync('umount', ['--', target]);
        }
      }
    });

    it('a tmpfs with mode=1777 (the kernel default, never shown) is in sync after apply', async () => {
      await converges([{ path: '/tmp2', source: 'tmpfs', type: 'tmpfs', options: ['mode=1777', 'uid=0', 'gid=0', 'size=50%', 'nosuid', 'nodev'] }]);
      expect(findmnt(real('/tmp2'))!.options).not.toMatch(/mode=/);
    });

    it('a loop ext4 and a bind mount with their defaults spelled out are in sync after apply', async () => {
      ext4Image('/var/lib/images/disk.ext4');
      mkdirSync(real('/srv/data'), { recursive: true });
      await converges([
        { path: '/mnt/disk', source: '/var/lib/images/disk.ext4', type: 'ext4', options: ['loop', 'rw', 'relatime', 'data=ordered', 'barrier=1', 'commit=5', 'delalloc', 'noquota', 'exec', 'suid', 'dev', 'async'] },
        { path: '/export/data', source: '/srv/data', type: 'none', options: ['bind', 'rw', 'relatime', 'exec', 'suid', 'dev', 'async'] },
      ]);
    });

    it('odd but valid sources and mount points round-trip: leading "-", "#", blanks, backslash, quotes', async () => {
      const specs: MountSpec[] = [
        { path: '/mnt/dash', source: '-tmpfs', type: 'tmpfs', options: ['size=1m'] },
        { path: '/mnt/hash', source: '#tmpfs', type: 'tmpfs', options: ['size=1m'] },
        { path: '/mnt/with blank', source: 'tmp fs', type: 'tmpfs', options: ['size=1m'] },
        { path: '/mnt/back\\slash', source: 'a\\040b"q\'', type: 'tmpfs', options: ['size=1m'] },
      ];
      await converges(specs);
      expect(fstab()).toBe(
        '-tmpfs\t/mnt/dash\ttmpfs\tsize=1m\t0\t0\n' +
          '\\043tmpfs\t/mnt/hash\ttmpfs\tsize=1m\t0\t0\n' +
          'tmp\\040fs\t/mnt/with\\040blank\ttmpfs\tsize=1m\t0\t0\n' +
          'a\\134040b"q\'\t/mnt/back\\134slash\ttmpfs\tsize=1m\t0\t0\n',
      );
      // libmount reads the same four entries back.
      const listed = JSON.parse(execFileSync('findmnt', ['--fstab', '-F', real('/etc/fstab'), '-J', '-o', 'SOURCE,TARGET'], { encoding: 'utf8' })) as { filesystems: { source: string; target: string }[] };
      expect(listed.filesystems).toEqual(specs.map((s) => ({ source: s.source, target: s.path })));
      expect(findmnt(real('/mnt/dash'))!.source).toBe('-tmpfs');
      expect(findmnt(real('/mnt/hash'))!.source).toBe('#tmpfs');
    });

    it('a managed line keeps its trailing comment byte for byte when it is updated', async () => {
      const before = '# static file system information\ntmpfs   /mnt/scratch   tmpfs   size=8m   0   0    # scratch for builds, see OPS-12\n';
      writeFileSync(real('/etc/fstab'), before);
      // libmount reads the comment as nothing at all (fields after the sixth are ignored).
      expect(execFileSync('findmnt', ['--fstab', '-F', real('/etc/fstab'), '-n', '-o', 'TARGET,OPTIONS,PASSNO'], { encoding: 'utf8' }).trim()).toMatch(/^\/mnt\/scratch\s+size=8m\s+0$/);
      const spec: MountSpec = { path: '/mnt/scratch', source: 'tmpfs', type: 'tmpfs', options: ['size=16m'] };
      await converges([spec]);
      expect(fstab()).toBe(before.replace('size=8m', 'size=16m'));
    });

    it('UUID="…" and LABEL="…" in fstab are the spec\'s unquoted tag: nothing to change', async () => {
      ext4Image('/img/tagged.ext4');
      execFileSync('e2label', [real('/img/tagged.ext4'), 'rcdata']);
      const uuid = execFileSync('blkid', ['-o', 'value', '-s', 'UUID', real('/img/tagged.ext4')], { encoding: 'utf8' }).trim();
      const text = `UUID="${uuid}" /mnt/u ext4 defaults 0 2\nLABEL="rcdata" /mnt/l ext4 defaults 0 2\n`;
      writeFileSync(real('/etc/fstab'), text);
      const specs: MountSpec[] = [
        { path: '/mnt/u', source: `UUID=${uuid}`, type: 'ext4', options: ['defaults'], pass: 2, state: 'present' },
        { path: '/mnt/l', source: 'LABEL=rcdata', type: 'ext4', options: ['defaults'], pass: 2, state: 'present' },
      ];
      expect((await bed.plan(specs)).changes).toEqual([]);
      expect(fstab()).toBe(text);
    });
  },
);
