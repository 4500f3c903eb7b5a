/**
 * /proc/self/mountinfo and which mounts a command touches. Everything here is string work on the
 * mount table: finding the mount of a path must never stat it (the mount may be the thing that hangs).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

export interface MountInfo {
  id: number;
  parentId: number;
  /** major:minor of the filesystem (0:N for virtual and network filesystems). */
  device: string;
  /** The path inside the filesystem that is mounted (not `/` for a bind mount of a subdirectory). */
  root: string;
  mountPoint: string;
  options: string;
  fstype: string;
  /** What is mounted: /dev/vda1, server:/export, //server/share, or the bindfs source directory. */
  source: string;
  superOptions: string;
}

/**
 * The one decoder of `\ooo` octal escapes: mountinfo, fstab and exports write space, tab, newline
 * and backslash so; getfattr (under LC_ALL=C) every byte outside printable ASCII. An escape is a
 * byte, not a character: the bytes are read as UTF-8 together with the text around them, so
 * `caf\303\251` is `café`, as `café` written raw is. `\400` and above are no byte: left as written.
 */
export function decodeOctalEscapes(s: string): string {
  if (!s.includes('\\')) return s;
  const parts: Buffer[] = [];
  let at = 0;
  for (const m of s.matchAll(/\\([0-3][0-7]{2})/g)) {
    parts.push(Buffer.from(s.slice(at, m.index), 'utf8'), Buffer.of(parseInt(m[1]!, 8)));
    at = m.index + 4;
  }
  parts.push(Buffer.from(s.slice(at), 'utf8'));
  return Buffer.concat(parts).toString('utf8');
}

export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    // left: id parent major:minor root mountpoint options [optional fields...]
    if (left.length < 6 || right.length < 2) continue;
    out.push({
      id: Number(left[0]),
      parentId: Number(left[1]),
      device: left[2]!,
      root: decodeOctalEscapes(left[3]!),
      mountPoint: decodeOctalEscapes(left[4]!),
      options: left[5]!,
      fstype: right[0]!,
      source: decodeOctalEscapes(right[1]!),
      superOptions: right[2] ?? '',
    });
  }
  return out;
}

export async function readMountInfo(): Promise<MountInfo[]> {
  return parseMountInfo(await fsp.readFile('/proc/self/mountinfo', 'utf8'));
}

const NETWORK_FS = new Set(['nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'ceph', 'glusterfs', '9p', 'afs', 'lustre']);

export function isNetworkFs(fstype: string): boolean {
  return NETWORK_FS.has(fstype);
}

/** FUSE filesystems hang exactly like network ones when their daemon stops answering. */
export function isFuse(fstype: string): boolean {
  return fstype === 'fuse' || fstype === 'fuseblk' || fstype.startsWith('fuse.');
}

/** Mounts whose stat can block on something outside this kernel: the ones worth probing. */
export function mayHang(m: Pick<MountInfo, 'fstype'>): boolean {
  return isNetworkFs(m.fstype) || isFuse(m.fstype);
}

/** The server of a network mount: `host` of `host:/export`, `[v6]:/x`, `//host/share`. */
export function serverOf(m: Pick<MountInfo, 'fstype' | 'source' | 'superOptions'>): string | null {
  if (m.fstype.startsWith('nfs')) {
    const v6 = /^\[([^\]]+)\]:/.exec(m.source);
    if (v6) return v6[1]!;
    const i = m.source.indexOf(':');
    if (i > 0) return m.source.slice(0, i);
  }
  if (m.fstype === 'cifs' || m.fstype === 'smb3' || m.fstype === 'smbfs') {
    const s = /^\/\/([^/]+)/.exec(m.source);
    if (s) return s[1]!;
  }
  const addr = /(?:^|,)addr=([^,]+)/.exec(m.superOptions);
  return addr ? addr[1]! : null;
}

/** `vers=4.2` from the super options of an NFS mount. */
export function nfsVersionOf(m: Pick<MountInfo, 'fstype' | 'superOptions'>): string | null {
  if (!m.fstype.startsWith('nfs')) return null;
  const v = /(?:^|,)(?:vers|nfsvers)=([^,]+)/.exec(m.superOptions);
  return v ? v[1]! : m.fstype === 'nfs4' ? '4' : null;
}

function isUnder(p: string, mountPoint: string): boolean {
  if (mountPoint === '/') return true;
  return p === mountPoint || p.startsWith(mountPoint.endsWith('/') ? mountPoint : `${mountPoint}/`);
}

/**
 * The mount a path lives on: the longest mount point that prefixes it; among equal mount points
 * the last one in the table (it is mounted over the others). Symlinks are not resolved, on purpose.
 */
export function mountOf(p: string, mounts: readonly MountInfo[]): MountInfo | null {
  const norm = path.posix.normalize(p);
  let best: MountInfo | null = null;
  for (const m of mounts) {
    if (!isUnder(norm, m.mountPoint)) continue;
    if (best === null || m.mountPoint.length >= best.mountPoint.length) best = m;
  }
  return best;
}

export interface MountRef {
  /** The argument (resolved against cwd) that led to this mount. */
  path: string;
  mountPoint: string;
  fstype: string;
  source: string;
  server: string | null;
  /** NFS protocol version (vers= of the mount), null for anything else. */
  version: string | null;
}

/**
 * Mounts named by a command's arguments: each absolute (or ./relative) path argument, including
 * the value of `--opt=/path`, mapped to its mount. The root filesystem is left out unless an
 * argument is on nothing else: it is rarely what hung, and naming it is noise.
 */
export function mountsForArgv(argv: readonly string[], mounts: readonly MountInfo[], cwd = '/'): MountRef[] {
  const out: MountRef[] = [];
  const seen = new Set<string>();
  const candidates: string[] = [];
  for (const a of argv.slice(1)) {
    const v = a.startsWith('-') && a.includes('=') ? a.slice(a.indexOf('=') + 1) : a;
    if (v.startsWith('/')) candidates.push(v);
    else if (v.startsWith('./') || v.startsWith('../')) candidates.push(path.posix.resolve(cwd, v));
  }
  if (cwd !== '/') candidates.push(cwd);
  for (const c of candidates) {
    const m = mountOf(c, mounts);
    if (m === null || m.mountPoint === '/' || seen.has(m.mountPoint)) continue;
    seen.add(m.mountPoint);
    out.push(mountRef(c, m));
  }
  return out;
}

export function mountRef(p: string, m: MountInfo): MountRef {
  return { path: p, mountPoint: m.mountPoint, fstype: m.fstype, source: m.source, server: serverOf(m), version: nfsVersionOf(m) };
}
