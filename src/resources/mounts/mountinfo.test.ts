import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostMounts, locate, parseMountinfo, toHostPath } from './mountinfo.js';
import { liveOptionDrift, sameFstabOptions, resolveIds } from './options.js';

const all = parseMountinfo(readFileSync(join(import.meta.dirname, 'testdata', 'sample.mountinfo'), 'utf8'));

describe('mountinfo', () => {
  it('parses fields, optional fields and escapes', () => {
    expect(all).toHaveLength(7);
    const t = all.find((m) => m.id === 44)!;
    expect(t).toMatchObject({ parent: 22, majmin: '0:48', root: '/', realPath: '/tmp/root x/mnt/t', fsType: 'tmpfs', source: 'tmp\\fs' });
    expect(t.mountOptions).toEqual(['rw', 'nosuid', 'nodev', 'relatime']);
    expect(t.superOptions).toEqual(['rw', 'size=65536k', 'mode=755', 'uid=1001']);
    expect(all.find((m) => m.id === 42)!.root).toBe('/srv/export');
  });

  it('maps to host paths under --root, dropping the rest', () => {
    const top = hostMounts(all, '/tmp/root x');
    expect([...top.keys()]).toEqual(['/mnt/t']);
    expect(top.get('/mnt/t')!.realPath).toBe('/tmp/root x/mnt/t');
    expect(toHostPath('/tmp/root x', '/tmp/root x')).toBe('/');
    expect(toHostPath('/tmp/root xy/a', '/tmp/root x')).toBeNull();
    expect(hostMounts(all, '/').size).toBe(7);
  });

  it('locates a path in the filesystem that holds it (bind sources)', () => {
    const at = locate(all, '/srv/export')!;
    expect(at.mount.id).toBe(22);
    expect(at.inner).toBe('/srv/export');
    expect(locate(all, '/srv/my data/sub')!.inner).toBe('/sub');
  });
});

describe('option normalisation', () => {
  const live = (id: number) => all.find((m) => m.id === id)!;
  it('ignores order, defaults and kernel-added options', () => {
    expect(sameFstabOptions(['nolock', 'nfsvers=3'], ['defaults', 'nfsvers=3', 'nolock'])).toBe(true);
    expect(liveOptionDrift(['nfsvers=3', 'nolock', '_netdev', 'tcp', 'hard'], live(40))).toEqual({ missing: [], clear: [] });
    expect(liveOptionDrift(['proto=tcp', 'vers=3', 'defaults', 'relatime', 'rw'], live(40))).toEqual({ missing: [], clear: [] });
    expect(liveOptionDrift(['iocharset=utf8', 'dir_mode=770', 'file_mode=0660', 'credentials=/etc/x', 'vers=3.1.1'], live(41))).toEqual({ missing: [], clear: [] });
  });
  it('reports real drift', () => {
    expect(liveOptionDrift(['nfsvers=4', 'soft'], live(40)).missing).toEqual(['nfsvers=4', 'soft']);
    expect(liveOptionDrift(['size=64m', 'mode=0755', 'uid=1001'], live(44))).toEqual({ missing: [], clear: ['suid', 'dev'] });
    expect(liveOptionDrift(['size=128m', 'nosuid', 'nodev', 'noatime'], live(44))).toEqual({ missing: ['size=128m', 'noatime'], clear: [] });
  });
  it('nfsvers=4 matches a negotiated 4.2', () => {
    expect(liveOptionDrift(['nfsvers=4'], { mountOptions: ['rw'], superOptions: ['vers=4.2'] }).missing).toEqual([]);
  });
  it('resolves uid/gid names', () => {
    expect(resolveIds(['uid=share', 'gid=users', 'uid=0', 'mode=1777'], { users: { share: 1001 }, groups: { users: 100 } })).toEqual({
      options: ['uid=1001', 'gid=100', 'uid=0', 'mode=1777'],
      unknown: [],
    });
    expect(resolveIds(['uid=nobodyhere'], { users: {}, groups: {} }).unknown).toEqual(['uid=nobodyhere']);
  });
});
