import { closeSync, constants as fsc, fstatSync, promises as fsp, lstatSync, openSync, readFile, readFileSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { hostname as osHostname } from 'node:os';
import { hmacHex, loadDigestKey } from './digest.js';
import type { ExecOptions, ExecResult } from './exec.js';
import { removeDeadTemps, syncDir, tempPath, writeFileAtomic } from './atomic.js';
import { UserError } from '../errors.js';
import { decodeOctalEscapes, mayHang, mountOf, readMountInfo, serverOf, type MountInfo } from './mounts.js';
import type { ProbeResult } from './probe.js';

// The callback readFile, promisified: for the hundreds of small files a plan reads it is a third
// faster than fs.promises.readFile on Node 20 (fewer round trips through the thread pool).
// (Node takes a numeric flag, O_NOFOLLOW among them; @types/node says string only.)
const readFileCb = promisify(readFile) as (file: string, options?: { flag?: number }) => Promise<Buffer>;

export interface FileStat {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number; // permission bits only
  uid: number;
  gid: number;
  size: number;
}

/** What fileFacts tells of a secret file: `hmac` under the host's digest key, never the bytes. */
export interface FileFacts {
  hmac: string | null;
  mode: number;
  uid: number;
  gid: number;
}

export interface WriteOptions {
  mode?: number;
  uid?: number;
  gid?: number;
}

/** Called with the previous bytes before a file is replaced or removed (the apply journal). */
export type BackupHook = (hostPath: string, previous: Buffer | null, stat: FileStat | null) => Promise<void>;

/**
 * The host as seen by reconcile: every path is host-absolute (`/etc/exports`) and is resolved
 * under `root`, so `--root DIR` makes DIR the host's `/`. Kinds never touch `fs` directly.
 */
export class Host {
  readonly root: string;
  /** True under --root: live-only actions (systemd manager, exportfs, timedatectl) are skipped. */
  readonly offline: boolean;
  backup: BackupHook | undefined;
  /** How long a network or FUSE mount may take to answer before a path on it counts as stale. */
  probeDeadlineMs = 5_000;
  private mounts: Promise<MountInfo[]> | undefined;
  /** The mount table once read: what localNow() answers from without waiting. */
  private mountsNow: MountInfo[] | undefined;
  /** Verdicts of the mounts probed, by mount id: a mount made again at the same place is probed again. */
  private readonly probes = new Map<number, Promise<string | null>>();
  private mountOfDir = new Map<string, MountInfo | null>();
  private mountPoints: Set<string> | undefined;
  /** Whether no mount of the table can block (no network, FUSE or automount): see inThread(). */
  private noBlockingMount: boolean | undefined;
  /** Per directory, which of its files have extended attributes (null: unknown, getfattr missing). */
  private readonly xattrListings = new Map<string, Promise<XattrListing | null>>();
  /** Directories this Host made or found (mkdir -p), until one is removed. */
  private readonly madeDirs = new Set<string>();

  /** Whether host paths are resolved under `root` (false in the view unrooted() gives). */
  protected rooted: boolean;

  constructor(root = '/') {
    this.root = path.resolve(root);
    this.offline = this.root !== '/';
    this.rooted = this.offline;
  }

  /**
   * The same Host (facts recording and replay, journal backups) with paths taken as the
   * machine's own, not under the root: for live state that --root does not relocate (a
   * PostgreSQL instance's files).
   */
  unrooted(): Host {
    if (!this.rooted) return this;
    const view = Object.create(this) as Host;
    Object.defineProperty(view, 'rooted', { value: false });
    return view;
  }

  /**
   * Refuses a path on a network or FUSE mount that does not answer. A `stat` on a dead NFS server
   * blocks in the kernel with no timeout and would hang this process, so such a mount is probed
   * once, in a child process with a deadline, before any file work on it here. Says whether file
   * work on the path may be done on the main thread (inThread).
   */
  private async guard(real: string): Promise<boolean> {
    const mounts = (this.mountsNow ??= await (this.mounts ??= readMountInfo().catch(() => [])));
    const m = this.mountFor(real, mounts);
    if (!m || !mayHang(m)) return this.inThread(real, mounts);
    let probe = this.probes.get(m.id);
    if (!probe) {
      probe = probeMounts([m.mountPoint], this.probeDeadlineMs).then((r: Map<string, ProbeResult>) => {
        const result = r.get(m.mountPoint);
        return result?.ok ? null : (result?.error ?? 'no answer');
      });
      this.probes.set(m.id, probe);
    }
    const error = await probe;
    if (error !== null) {
      const server = serverOf(m);
      throw new UserError(
        `${real} is on the mount ${m.mountPoint} (${m.fstype} from ${m.source}${server ? `, server ${server}` : ''}), which does not answer (${error}); not touching it. Check the server, or detach it with umount -f / umount -l`,
      );
    }
    return false;
  }

  private mountFor(real: string, mounts: MountInfo[]): MountInfo | null {
    this.mountPoints ??= new Set(mounts.map((x) => x.mountPoint));
    // Paths come by the hundred from a few directories: look each directory's mount up once (a
    // path that is itself a mount point belongs to that mount, not to its directory's).
    const key = this.mountPoints.has(real) ? real : real.slice(0, real.lastIndexOf('/')) || '/';
    let m = this.mountOfDir.get(key);
    if (m === undefined) {
      m = mountOf(key, mounts);
      this.mountOfDir.set(key, m);
    }
    return m;
  }

  /** guard()'s answer when it needs no wait (the mount table read, no probe owed); else undefined. */
  private localNow(real: string): boolean | undefined {
    if (!this.mountsNow) return undefined;
    const m = this.mountFor(real, this.mountsNow);
    return !m || !mayHang(m) ? this.inThread(real, this.mountsNow) : undefined;
  }

  /**
   * Whether file work on a real path may be done on the main thread: only where nothing can block
   * it, since a stat on a dead server waits in the kernel and would stop the watchdog's timers with
   * it. Under --root every directory of the path was resolved in the root and the last component
   * is not followed, so the mount table says which filesystem it is on. On the live host paths are
   * taken as written (a link may lead onto any mount), so only when no mount can block at all.
   * An automount point (autofs) mounts on first touch: never here.
   */
  private inThread(real: string, mounts: MountInfo[]): boolean {
    if (!this.rooted) return (this.noBlockingMount ??= !mounts.some(mayBlock));
    const m = this.mountFor(real, mounts);
    return !m || !mayBlock(m);
  }

  /**
   * After a command (it may have mounted or unmounted): the mount table is read again. Probe
   * verdicts stay: a mount that did not answer is not waited on again for every command.
   */
  private forgetMounts(): void {
    this.mounts = undefined;
    this.mountsNow = undefined;
    this.mountPoints = undefined;
    this.noBlockingMount = undefined;
    if (this.mountOfDir.size) this.mountOfDir = new Map();
  }

  /**
   * realPath (not following the last component) without waiting, when the path's directory is
   * resolved already; else undefined. A plan reads hundreds of files from a few directories: all
   * but the first of each are then found, guarded and read with no turn of the event loop.
   */
  private realPathNow(hostPath: string): string | undefined {
    // Plain strings, not node:path: its normalize walks every character, and a plan asks this
    // hundreds of times before any of it is optimized. A path that needs normalizing goes slow.
    if (!hostPath.startsWith('/') || hostPath.length === 1 || hostPath.endsWith('/') || NOT_NORMAL.test(hostPath)) return undefined;
    if (!this.rooted) return hostPath;
    const slash = hostPath.lastIndexOf('/');
    const parent = this.resolvedNow.get(slash === 0 ? '/' : hostPath.slice(0, slash));
    return parent && `${this.root}${parent.path === '/' ? '' : parent.path}${hostPath.slice(slash)}`;
  }

  /**
   * The lexical path of a host path under the root, for messages. File access goes through
   * realPath, which resolves symlinks inside the root.
   */
  resolve(hostPath: string): string {
    if (!path.isAbsolute(hostPath)) throw new Error(`host path must be absolute: ${hostPath}`);
    const normal = path.posix.normalize(hostPath);
    return this.rooted ? path.join(this.root, normal) : normal;
  }

  /**
   * The real path of a host path, every component resolved inside the root as
   * openat2(RESOLVE_IN_ROOT) would: an absolute link target is taken from the root (a root
   * image's `/etc/alternatives/x` or `lib -> /usr/lib` means the image's own), and a relative
   * target whose `..` would climb above the root is an error naming the link (it is not clamped:
   * such a link was made for another tree, and following it anywhere would be a guess). The last
   * component is followed only with `follow`; `write` also refuses a dangling link on the way
   * (mkdir -p would fail there too). On the live host (root `/`) paths are used as they are.
   *
   * Path-based, not descriptor-based (Node has no openat2): it guards against the layout of the
   * root, not against another process swapping directories for links while reconcile runs.
   */
  async realPath(hostPath: string, options: { follow?: boolean; write?: boolean } = {}): Promise<string> {
    if (!path.isAbsolute(hostPath)) throw new Error(`host path must be absolute: ${hostPath}`);
    const normal = path.posix.normalize(hostPath);
    if (!this.rooted) return normal;
    let found: InRoot;
    if (options.follow || normal === '/') {
      found = await this.inRoot(normal);
    } else {
      const parent = await this.inRoot(path.posix.dirname(normal));
      found = { ...parent, path: path.posix.join(parent.path, path.posix.basename(normal)) };
    }
    if (options.write && found.dangling) throw new UserError(found.dangling);
    return path.join(this.root, found.path);
  }

  /** Directories resolved in the root, by host path: a plan reads hundreds of files from a few. */
  private resolved = new Map<string, Promise<InRoot>>();
  /** The same, once each resolution is known: what realPathNow() answers from. */
  private resolvedNow = new Map<string, InRoot>();

  /** Forgets resolutions after this process changed the tree (a new directory, link or mount). */
  private forget(): void {
    if (this.resolved.size) this.resolved = new Map();
    if (this.resolvedNow.size) this.resolvedNow = new Map();
  }

  private inRoot(normal: string): Promise<InRoot> {
    if (normal === '/') return Promise.resolve({ path: '/', missing: false });
    let r = this.resolved.get(normal);
    if (!r) {
      const resolved = this.resolved;
      r = this.inRoot(path.posix.dirname(normal))
        .then((parent) => walkInRoot(this.root, parent, [{ name: path.posix.basename(normal), via: null }]))
        .then((found) => {
          // Not if the tree changed meanwhile (forget() made new maps): that answer is stale.
          if (this.resolved === resolved) this.resolvedNow.set(normal, found);
          return found;
        });
      resolved.set(normal, r);
    }
    return r;
  }

  async read(hostPath: string): Promise<Buffer | null> {
    const real = this.realPathNow(hostPath) ?? (await this.realPath(hostPath));
    const local = this.localNow(real) ?? (await this.guard(real));
    try {
      // O_NOFOLLOW: a file that is a link is read through the link resolved in the root (rare),
      // so the common case costs no extra lstat. Where nothing can block (inThread) a regular
      // file is read on the main thread: a plan reads hundreds of small files, and four round
      // trips through the thread pool (open, stat, read, close) cost more than the read. Anything
      // else goes through the pool, so a dead server or a FIFO holds a pool thread, never the
      // watchdog's timers.
      const flags = this.rooted ? READ_NOFOLLOW : fsc.O_RDONLY;
      return (local ? readRegularFileSync(real, flags) : undefined) ?? (await readFileCb(real, { flag: flags }));
    } catch (e) {
      if (isMissing(e)) return null;
      if ((e as NodeJS.ErrnoException).code === 'ELOOP' && this.rooted) return this.readFollowing(hostPath);
      throw e;
    }
  }

  private async readFollowing(hostPath: string): Promise<Buffer | null> {
    try {
      return await readFileCb(await this.realPath(hostPath, { follow: true }));
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }

  /**
   * Reads a file of the running kernel (`/proc/...`, `/sys/...`): these are never under --root,
   * since the live state they describe is the machine's own.
   */
  async readLive(kernelPath: string): Promise<string | null> {
    try {
      return await fsp.readFile(kernelPath, 'utf8');
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }

  async readText(hostPath: string): Promise<string | null> {
    const b = await this.read(hostPath);
    return b === null ? null : b.toString('utf8');
  }

  async lstat(hostPath: string): Promise<FileStat | null> {
    const real = this.realPathNow(hostPath) ?? (await this.realPath(hostPath));
    const local = this.localNow(real) ?? (await this.guard(real));
    try {
      return toStat(local ? lstatSync(real) : await fsp.lstat(real));
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }

  async readlink(hostPath: string): Promise<string | null> {
    const real = await this.realPath(hostPath);
    const local = await this.guard(real);
    try {
      return local ? readlinkSync(real) : await fsp.readlink(real);
    } catch (e) {
      if (isMissing(e) || (e as NodeJS.ErrnoException).code === 'EINVAL') return null;
      throw e;
    }
  }

  async exists(hostPath: string): Promise<boolean> {
    return (await this.lstat(hostPath)) !== null;
  }

  private key: Promise<Buffer> | undefined;
  /** Whether digestKey() may create the key file (apply); a plan only reads it. */
  createsDigestKey = false;

  /** The host's digest key (see digest.ts); null when it is not known (a facts snapshot). */
  digestKey(): Promise<Buffer | null> {
    return (this.key ??= loadDigestKey(this, this.createsDigestKey));
  }

  /** The key if this run has needed it already: a plan that keeps no secret digest creates none. */
  loadedDigestKey(): Promise<Buffer | null> {
    return this.key ?? Promise.resolve(null);
  }

  /**
   * A file's keyed digest (HMAC-SHA256 under the host's key), mode and owner without its bytes
   * ever leaving this call: for files that hold a secret (a credentials file), so neither a plan
   * nor a facts snapshot carries them or a digest a word list could be checked against.
   */
  async fileFacts(hostPath: string): Promise<FileFacts | null> {
    // fs directly, not this.read: a recording Host must see the digest, never the bytes.
    const real = await this.realPath(hostPath, { follow: true });
    await this.guard(real);
    try {
      const [bytes, stat] = await Promise.all([fsp.readFile(real), fsp.stat(real)]);
      const key = await this.digestKey();
      return { hmac: key ? hmacHex(key, bytes) : null, mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid };
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }

  /** A directory's entries with their types, from one readdir (no stat per entry); null when missing. */
  async list(hostPath: string): Promise<{ name: string; type: FileStat['type'] }[] | null> {
    const real = await this.realPath(hostPath, { follow: true });
    await this.guard(real);
    try {
      const entries = await fsp.readdir(real, { withFileTypes: true });
      return entries.map((e) => ({ name: e.name, type: e.isFile() ? 'file' : e.isDirectory() ? 'dir' : e.isSymbolicLink() ? 'symlink' : 'other' }));
    } catch (e) {
      if (isMissing(e) || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
      throw e;
    }
  }

  async readdir(hostPath: string): Promise<string[] | null> {
    const real = await this.realPath(hostPath, { follow: true });
    await this.guard(real);
    try {
      return await fsp.readdir(real);
    } catch (e) {
      if (isMissing(e) || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
      throw e;
    }
  }

  /**
   * Replaces a file atomically: temp file in the same directory, fsync, rename, fsync of the
   * directory. Mode and owner are kept from the previous file unless given; its extended
   * attributes (ACLs, SELinux label, user.*) are kept too. Returns a warning for the step's
   * outcome when they could not be: the write still happens, but never silently loses them.
   */
  async writeFile(hostPath: string, content: string | Buffer, options: WriteOptions = {}): Promise<string | undefined> {
    const real = await this.realPath(hostPath, { write: true });
    const dir = path.dirname(real);
    await this.guard(real);
    await this.mkdirs(dir);
    const prevStat = await this.lstat(hostPath);
    if (prevStat?.type === 'symlink') {
      // Renaming over the link would turn it into a file and lose where it pointed.
      throw new UserError(`${hostPath} is a symlink (to ${await this.readlink(hostPath)}); not replacing it with a file: manage its target instead, or remove the link`);
    }
    const previous = prevStat?.type === 'file' ? await this.read(hostPath) : null;
    await this.backup?.(hostPath, previous, prevStat);
    const mode = options.mode ?? (prevStat?.type === 'file' ? prevStat.mode : 0o644);
    const uid = options.uid ?? (prevStat?.type === 'file' ? prevStat.uid : undefined);
    const gid = options.gid ?? (prevStat?.type === 'file' ? prevStat.gid : undefined);
    let lost: string | undefined;
    const prepare =
      prevStat?.type === 'file' && (await this.mayHaveXattrs(real))
        ? async (tmp: string) => {
            lost = await copyXattrs(real, tmp, hostPath);
          }
        : undefined;
    await writeFileAtomic(real, content, { mode, uid, gid, prepare });
    return lost;
  }

  /**
   * Whether the file at `real` has (or may have) extended attributes. A rename puts a new inode in
   * place, so they have to be copied onto the temp file, which costs a process (cp): only the files
   * that have any pay it. Node cannot list xattrs, so one `getfattr` per directory per apply lists
   * every file of the directory at once (a units apply rewriting 250 files spawns one, not 250).
   * A file the listing did not see (created since) counts as "may have", and so does every file
   * when getfattr is missing (package attr): then each replaced file pays the cp, but keeps them.
   */
  private async mayHaveXattrs(real: string): Promise<boolean> {
    const dir = path.dirname(real);
    let listing = this.xattrListings.get(dir);
    if (!listing) {
      listing = listXattrs(dir);
      this.xattrListings.set(dir, listing);
    }
    const known = await listing;
    const name = path.basename(real);
    return known === null || !known.listed.has(name) || known.withXattrs.has(name);
  }

  /** Points `hostPath` at `target` atomically (a temp link renamed over the old one). */
  async symlink(hostPath: string, target: string): Promise<void> {
    const real = await this.realPath(hostPath, { write: true });
    const dir = path.dirname(real);
    await this.guard(real);
    await this.mkdirs(dir);
    this.forget();
    const prevStat = await this.lstat(hostPath);
    if (prevStat?.type === 'dir') throw new Error(`${hostPath} is a directory, not replacing it with a symlink`);
    await this.backup?.(hostPath, prevStat?.type === 'file' ? await this.read(hostPath) : null, prevStat);
    await removeDeadTemps(dir);
    const tmp = tempPath(real);
    await fsp.symlink(target, tmp);
    try {
      await fsp.rename(tmp, real);
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      throw e;
    }
    await syncDir(dir);
  }

  /** Creates a directory (and parents) and sets mode and owner on the last one. */
  async ensureDir(hostPath: string, options: WriteOptions = {}): Promise<void> {
    const real = await this.realPath(hostPath, { follow: true, write: true });
    await this.guard(real);
    await this.mkdirs(real, options.mode ?? 0o755);
    if (options.uid !== undefined || options.gid !== undefined) await fsp.chown(real, options.uid ?? -1, options.gid ?? -1);
    if (options.mode !== undefined) await fsp.chmod(real, options.mode);
  }

  async removeFile(hostPath: string): Promise<void> {
    const prevStat = await this.lstat(hostPath);
    if (prevStat === null) return;
    await this.backup?.(hostPath, prevStat.type === 'file' ? await this.read(hostPath) : null, prevStat);
    const real = await this.realPath(hostPath);
    this.forget();
    await fsp.rm(real, { force: true });
    await syncDir(path.dirname(real));
  }

  /** Removes a directory only when it is empty; says whether it did. */
  async removeDirIfEmpty(hostPath: string): Promise<boolean> {
    const real = await this.realPath(hostPath);
    await this.guard(real);
    this.forget();
    try {
      await fsp.rmdir(real);
      this.madeDirs.clear();
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || isMissing(e)) return false;
      throw e;
    }
  }

  /** mkdir -p of a real path realPath gave: its missing tail has no links, so it stays in the root. */
  private async mkdirs(real: string, mode?: number): Promise<void> {
    // 250 unit files in one directory ask for it once, not 250 times.
    if (this.madeDirs.has(real)) return;
    if (await fsp.mkdir(real, { recursive: true, mode })) this.forget();
    this.madeDirs.add(real);
  }

  /** The same host without journal backups: for files that hold a secret (credentials, postgresql.auto.conf). */
  withoutBackup(): Host {
    const view = Object.create(this) as Host;
    view.backup = undefined;
    return view;
  }

  exec(argv: string[], options?: ExecOptions): Promise<ExecResult> {
    // A command may mount over a directory or make links: resolutions and the mount table are
    // made again after it.
    this.forget();
    this.forgetMounts();
    return exec(argv, options).finally(() => {
      this.forget();
      this.forgetMounts();
    });
  }

  /** Stale-mount probes of real paths (a child process with a deadline); a method so facts can record it. */
  probeMounts(realPaths: string[], deadlineMs: number): Promise<Map<string, ProbeResult>> {
    return probeMounts(realPaths, deadlineMs);
  }

  /** This machine's name; a method so a replayed facts snapshot can answer with the recorded one. */
  hostname(): string {
    return osHostname();
  }
}

interface InRoot {
  /** Host path with no link in it (its missing tail, if any, is lexical). */
  path: string;
  missing: boolean;
  /** Why a write may not go there: a link on the way points at nothing. */
  dangling?: string;
}

// Commands and probes load child_process and the watchdog's worker: a converged plan taken from
// the memo runs neither, so they are loaded on first use.
async function exec(argv: string[], options?: ExecOptions): Promise<ExecResult> {
  return (await import('./exec.js')).exec(argv, options);
}
async function probeMounts(realPaths: string[], deadlineMs: number): Promise<Map<string, ProbeResult>> {
  if (!realPaths.length) return new Map();
  return (await import('./probe.js')).probeMounts(realPaths, deadlineMs);
}

const READ_NOFOLLOW = fsc.O_RDONLY | fsc.O_NOFOLLOW;

/** A mount file work on may block: one that may hang (probed), or an automount (mounts on first touch). */
const mayBlock = (m: MountInfo): boolean => mayHang(m) || m.fstype === 'autofs';
/** A path component `.` or `..`, or an empty one: path.posix.normalize would change the path. */
const NOT_NORMAL = /\/\/|\/\.\.?(?:\/|$)/;

/**
 * A regular file's bytes, read on this thread; undefined for anything else (a FIFO, a device),
 * which the caller reads through the thread pool. O_NONBLOCK: opening a FIFO must not wait for a
 * writer here (for a regular file it changes nothing).
 */
function readRegularFileSync(real: string, flags: number): Buffer | undefined {
  const fd = openSync(real, flags | fsc.O_NONBLOCK);
  try {
    return fstatSync(fd).isFile() ? readFileSync(fd) : undefined;
  } finally {
    closeSync(fd);
  }
}
const MAX_LINKS = 40; // the kernel's limit (ELOOP)

/**
 * Walks `names` from an already resolved directory, one component at a time, following links
 * inside the root. `via` is the link a component came from, to name it in errors.
 */
async function walkInRoot(root: string, start: InRoot, names: { name: string; via: string | null }[]): Promise<InRoot> {
  let { path: cur, missing, dangling } = start;
  let links = 0;
  const queue = [...names];
  while (queue.length) {
    const { name, via } = queue.shift()!;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      if (cur === '/' && via !== null) {
        throw new UserError(`${via} under the root ${root} is a symlink to ${await fsp.readlink(path.join(root, via)).catch(() => '?')}, which leads out of the root; not following it`);
      }
      cur = path.posix.dirname(cur);
      continue;
    }
    const next = path.posix.join(cur, name);
    if (missing) {
      cur = next;
      continue;
    }
    let target: string;
    try {
      target = await fsp.readlink(path.join(root, next));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EINVAL') {
        cur = next; // not a link
        continue;
      }
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      missing = true;
      if (via !== null) dangling = `${via} under the root ${root} is a symlink to ${await fsp.readlink(path.join(root, via)).catch(() => '?')}, which does not exist; not creating it`;
      cur = next;
      continue;
    }
    if (++links > MAX_LINKS) throw new UserError(`${next} under the root ${root}: too many levels of symbolic links (a link loop); not following it`);
    if (target.startsWith('/')) cur = '/';
    queue.unshift(...target.split('/').map((n) => ({ name: n, via: next })));
  }
  return { path: cur, missing, dangling };
}

function toStat(s: import('node:fs').Stats): FileStat {
  return {
    type: s.isFile() ? 'file' : s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'symlink' : 'other',
    mode: s.mode & 0o7777,
    uid: s.uid,
    gid: s.gid,
    size: s.size,
  };
}

export function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT';
}

interface XattrListing {
  listed: Set<string>;
  withXattrs: Set<string>;
}

/** getfattr over a directory's files in batches (argv stays far below ARG_MAX); null when it cannot run. */
async function listXattrs(dir: string): Promise<XattrListing | null> {
  const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
  const files = entries.filter((e) => e.isFile()).map((e) => e.name);
  const listing: XattrListing = { listed: new Set(), withXattrs: new Set() };
  for (let i = 0; i < files.length; i += 1000) {
    const batch = files.slice(i, i + 1000);
    // `-m -`: every namespace (security.selinux, system.posix_acl_*, user.*, trusted.*), names only.
    const r = await exec(['getfattr', '-m', '-', '--absolute-names', '--', ...batch.map((f) => path.join(dir, f))], {
      env: { LC_ALL: 'C' },
      describe: `list the extended attributes of the files in ${dir}`,
    });
    // A file removed meanwhile makes getfattr exit 1 and still list the others.
    if (r.failedToStart || (!r.ok && !r.stdout)) return null;
    for (const line of r.stdout.split('\n')) {
      if (line.startsWith('# file: ')) listing.withXattrs.add(path.basename(decodeOctalEscapes(line.slice(8))));
    }
    for (const f of batch) listing.listed.add(f);
  }
  return listing;
}

/**
 * Copies the extended attributes of `from` onto `tmp` with GNU cp: `--preserve=xattr` takes
 * user.*, trusted.* and security.* (the SELinux label: without `context` cp copies it as a plain
 * xattr), `mode` takes the POSIX ACL (cp copies ACLs with the permissions, not with the xattrs).
 * The mode and owner themselves are set again by the caller, as before. Returns a warning if cp
 * could not run or failed.
 */
async function copyXattrs(from: string, tmp: string, hostPath: string): Promise<string | undefined> {
  const r = await exec(['cp', '--attributes-only', '--preserve=mode,xattr', '--', from, tmp], {
    env: { LC_ALL: 'C' },
    describe: `copy the extended attributes of ${from}`,
  });
  if (r.ok) return undefined;
  const why = r.failedToStart ? 'cp could not run' : r.stderr.trim().split('\n').pop() || `cp exited ${r.exitCode}`;
  return `extended attributes (ACL, SELinux label, user.*) of ${hostPath} not kept: ${why}`;
}
