import { describe, expect, it } from 'vitest';
import { decodeOctalEscapes, isFuse, mayHang, mountOf, mountsForArgv, nfsVersionOf, parseMountInfo, serverOf } from './mounts.js';

// Lines captured from this VM plus typical NFS/CIFS lines from a client (this kernel has no NFS client).
const MOUNTINFO = [
  '21 26 0:20 / /proc rw,relatime - proc proc rw',
  '26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard',
  '24 23 0:22 / /dev/shm rw,relatime shared:5 - tmpfs tmpfs rw,size=24683620k',
  '41 26 0:38 / /tmp/hx/mnt rw,nosuid,nodev,relatime - fuse /tmp/hx/src rw,user_id=0,group_id=0,default_permissions,allow_other',
  '50 26 0:50 / /srv/nfs\\040data rw,relatime shared:7 master:2 - nfs4 filer.example.com:/export/data rw,vers=4.2,rsize=1048576,hard,proto=tcp,addr=10.0.0.5',
  '51 26 0:51 / /srv/old rw,relatime - nfs [fd00::5]:/old rw,vers=3,addr=fd00::5',
  '52 26 0:52 / /mnt/share rw,relatime - cifs //smb.example.com/share rw,vers=3.1.1,addr=10.0.0.6',
  '53 26 0:53 / /srv/nfs rw,relatime - tmpfs tmpfs rw',
  '',
].join('\n');

describe('decodeOctalEscapes: the one decoder of mountinfo, fstab, exports and getfattr escapes', () => {
  it('decodes the escapes of blank, tab, newline, backslash, hash and quote', () => {
    expect(decodeOctalEscapes('My\\040Data')).toBe('My Data');
    expect(decodeOctalEscapes('a\\011b\\012c\\134d\\043e\\042f')).toBe('a\tb\nc\\d#e"f');
  });

  it('reads escaped bytes as UTF-8 together with raw text: an escaped name and a raw one are the same', () => {
    expect(decodeOctalEscapes('/mnt/caf\\303\\251')).toBe('/mnt/café');
    expect(decodeOctalEscapes('/mnt/café')).toBe('/mnt/café');
    expect(decodeOctalEscapes('/mnt/\\346\\227\\245本\\040x')).toBe('/mnt/日本 x');
  });

  it('decodes each escape once, left to right, and leaves what is no byte escape as written', () => {
    // \134 is a backslash: the 040 after it is text, not another escape.
    expect(decodeOctalEscapes('a\\134040')).toBe('a\\040');
    expect(decodeOctalEscapes('\\400 \\777 \\09 \\12 trailing\\')).toBe('\\400 \\777 \\09 \\12 trailing\\');
    expect(decodeOctalEscapes('')).toBe('');
  });
});

describe('parseMountInfo', () => {
  const mounts = parseMountInfo(MOUNTINFO);

  it('reads every line, with optional fields and octal escapes', () => {
    expect(mounts).toHaveLength(8);
    const nfs = mounts.find((m) => m.fstype === 'nfs4')!;
    expect(nfs).toMatchObject({ id: 50, parentId: 26, mountPoint: '/srv/nfs data', source: 'filer.example.com:/export/data', device: '0:50' });
    expect(nfs.superOptions).toContain('vers=4.2');
  });

  it('names the server and NFS version', () => {
    const by = (fs: string) => mounts.find((m) => m.fstype === fs)!;
    expect(serverOf(by('nfs4'))).toBe('filer.example.com');
    expect(nfsVersionOf(by('nfs4'))).toBe('4.2');
    expect(serverOf(by('nfs'))).toBe('fd00::5');
    expect(nfsVersionOf(by('nfs'))).toBe('3');
    expect(serverOf(by('cifs'))).toBe('smb.example.com');
    expect(serverOf(by('ext4'))).toBeNull();
  });

  it('knows which filesystems can hang on something outside the kernel', () => {
    expect(isFuse('fuse')).toBe(true);
    expect(isFuse('fuse.sshfs')).toBe(true);
    expect(mayHang({ fstype: 'nfs4' })).toBe(true);
    expect(mayHang({ fstype: 'cifs' })).toBe(true);
    expect(mayHang({ fstype: 'ext4' })).toBe(false);
    expect(mayHang({ fstype: 'fusectl' })).toBe(false);
  });

  it('finds the mount of a path by longest prefix, never by a partial name', () => {
    expect(mountOf('/tmp/hx/mnt/a/b', mounts)?.fstype).toBe('fuse');
    expect(mountOf('/tmp/hx/mntx', mounts)?.mountPoint).toBe('/');
    expect(mountOf('/srv/nfs data/x', mounts)?.fstype).toBe('nfs4');
    expect(mountOf('/srv/nfs/x', mounts)?.fstype).toBe('tmpfs');
    expect(mountOf('/tmp/hx/mnt/../../x', mounts)?.mountPoint).toBe('/');
  });

  it('maps a command line to the mounts it names, root left out', () => {
    const refs = mountsForArgv(['stat', '-c', '%n', '/tmp/hx/mnt/f', '--target=/srv/nfs data/y', '/etc/passwd', './rel'], mounts, '/mnt/share/dir');
    expect(refs.map((r) => r.mountPoint)).toEqual(['/tmp/hx/mnt', '/srv/nfs data', '/mnt/share']);
    expect(refs[1]).toMatchObject({ fstype: 'nfs4', server: 'filer.example.com', version: '4.2' });
    expect(refs[2]!.path).toBe('/mnt/share/dir/rel');
  });
});
