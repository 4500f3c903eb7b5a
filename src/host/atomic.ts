import { constants as fsc, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * The one way reconcile replaces a file: a temp file in the same directory (hidden, so a
 * collector reading *.prom never picks it up), written, owned and moded, fsync'd, renamed over
 * the target, then the directory fsync'd. A reader sees the old bytes or the new ones, never a
 * partial file, and a crash leaves one of the two.
 */
export async function writeFileAtomic(
  file: string,
  content: string | Buffer,
  options: { mode?: number; uid?: number; gid?: number; prepare?: (tmp: string) => Promise<void> } = {},
): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  await removeDeadTemps(dir);
  const tmp = tempPath(file);
  const fh = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  try {
    // `prepare` (the old file's xattrs and ACL) runs first, and owner and mode are set before the
    // bytes go in: the new bytes are never readable under a wider mode than the one asked for.
    await options.prepare?.(tmp);
    if (options.uid !== undefined || options.gid !== undefined) await fh.chown(options.uid ?? -1, options.gid ?? -1);
    await fh.chmod(options.mode ?? 0o644);
    await fh.writeFile(content);
    await fh.sync();
    await fh.close();
    await fsp.rename(tmp, file);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await syncDir(dir);
}

/** The hidden name of a temp file for `file`: `.NAME.reconcile-PID-RANDOM`, so a later run can tell whose it is. */
export function tempPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.reconcile-${process.pid}-${randomBytes(4).toString('hex')}`);
}

const TEMP = /^\..+\.reconcile-(\d+)-[0-9a-f]{8}$/;
const cleaned = new Set<string>();

/**
 * Removes the temp files a killed run left in `dir` (once per directory per process): those of a
 * PID that is gone, or that is now another program (PIDs are reused). A running reconcile's are kept.
 */
export async function removeDeadTemps(dir: string): Promise<void> {
  if (cleaned.has(dir)) return;
  cleaned.add(dir);
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(TEMP.exec(name)?.[1] ?? NaN);
    if (!Number.isSafeInteger(pid) || pid === process.pid || (await isReconcile(pid))) continue;
    await fsp.rm(path.join(dir, name), { force: true });
  }
}

async function isReconcile(pid: number): Promise<boolean> {
  // /proc is the running kernel's; a PID with no entry there is gone.
  const cmdline = await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
  return cmdline !== null && cmdline.includes('reconcile');
}

/**
 * fsyncs that concurrent callers share: request() resolves once a sync that *began after the call*
 * has finished, so everything the caller wrote before is durable. Callers arriving while a sync
 * runs share the next one: 16 files renamed into one directory at once cost two directory syncs,
 * not 16, and the guarantee each caller gets is the same.
 */
export class SyncGroup {
  private running: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;

  constructor(private readonly sync: () => Promise<void>) {}

  request(): Promise<void> {
    this.queued ??= this.running = this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.sync();
      });
    return this.queued;
  }
}

const dirSyncs = new Map<string, SyncGroup>();

/** fsync of a directory after entries in it changed; concurrent callers share syncs (SyncGroup). */
export function syncDir(dir: string): Promise<void> {
  let group = dirSyncs.get(dir);
  if (!group) dirSyncs.set(dir, (group = new SyncGroup(() => syncDirNow(dir))));
  return group.request();
}

async function syncDirNow(dir: string): Promise<void> {
  const fh = await fsp.open(dir, fsc.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
