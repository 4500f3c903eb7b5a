/**
 * Local lock file for hosts without lock.redis, e.g. `<root>/var/lib/reconcile/lock`.
 * The file appears atomically with its content (written to a temp file, then link(2), which fails
 * with EEXIST like O_EXCL), holds the holder record and pid, and is stale once that pid is gone
 * (kill(pid, 0) → ESRCH, or the pid now belongs to a process started later). The fencing token
 * is a counter file `<path>.fence`, bumped while the lock is held. An empty or unparsable file
 * (never written by reconcile) is stale after 5 s unless a process has it open, which is
 * reported at once (see unreadableLockAge).
 */
import { randomUUID } from 'node:crypto';
import { constants as fsc, readFileSync } from 'node:fs';
import { link, mkdir, open, readdir, readFile, readlink, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import {
  describeHolder,
  formatWait,
  LockBackendError,
  LockBusyError,
  LockLostError,
  parseHolder,
  type AcquireOptions,
  type HeldBy,
  type InspectableLock,
  type LockHandle,
} from './types.js';
import { acquireWithWait, type Attempt } from './wait.js';

interface FileRecord extends HeldBy {
  id: string;
  /** Process start time (clock ticks since boot, /proc/<pid>/stat field 22): detects pid reuse. */
  startTime?: number;
}

export function createLocalHostLock(lockPath: string): InspectableLock & { readonly path: string } {
  const fencePath = `${lockPath}.fence`;
  const guardPath = `${lockPath}.takeover`;
  const label = `lock file ${lockPath}`;

  async function attempt(id: string, opts: AcquireOptions): Promise<Attempt<void>> {
    // The pid is the liveness proof of the lock, so it is always this process's, whatever holder.pid says.
    const startTime = startTimeOf(process.pid);
    const rec: FileRecord = {
      id,
      host: opts.holder.host,
      pid: process.pid,
      ...(opts.holder.plan !== undefined ? { plan: opts.holder.plan } : {}),
      since: new Date().toISOString(),
      ...(startTime !== undefined ? { startTime } : {}),
    };
    // A few rounds: the file may vanish or be taken over between our link and our read.
    let cur: FileRecord | undefined;
    let retryInMs: number | undefined;
    for (let round = 0; round < 5; round++) {
      if (await createExclusive(lockPath, JSON.stringify(rec))) return { ok: true, value: undefined };
      const raw = await readText(lockPath);
      if (raw === undefined) continue;
      cur = parseRecord(raw);
      if (!cur) {
        retryInMs = await unreadableLockAge(lockPath, raw);
        if (retryInMs !== undefined) break;
        await takeOver(raw);
        continue;
      }
      if (!isStale(cur)) break;
      await takeOver(raw);
    }
    const desc = cur ? describeHolder(cur) : 'something that is not a reconcile lock record (remove the file if no apply is running)';
    const holder = cur;
    return {
      ok: false,
      holder,
      retryInMs,
      held: `${label} is held by ${desc}`,
      busy: (waited) => new LockBusyError(`${label} is held by ${desc}; ${formatWait(waited)}`, lockPath, holder, waited),
    };
  }

  /** Remove a stale lock file, but only the one we judged stale: another waiter may have replaced it already. */
  async function takeOver(staleText: string): Promise<void> {
    const guard = JSON.stringify({ pid: process.pid, startTime: startTimeOf(process.pid) });
    if (!(await createExclusive(guardPath, guard))) {
      // A takeover in progress; a guard left by a process that died mid-takeover is removed.
      const g = parseRecord(await readText(guardPath));
      if (g && isStale(g)) await unlink(guardPath).catch(() => undefined);
      return;
    }
    try {
      if ((await readText(lockPath)) === staleText) await unlink(lockPath);
    } finally {
      await unlink(guardPath).catch(() => undefined);
    }
  }

  return {
    path: lockPath,
    async acquire(opts: AcquireOptions): Promise<LockHandle> {
      await mkdir(path.dirname(lockPath), { recursive: true }).catch((e) => {
        throw ioError(e, `cannot create the directory of ${label}`);
      });
      const id = randomUUID();
      await acquireWithWait(opts.waitMs, opts.signal, () => attempt(id, opts), opts);
      try {
        const token = await bumpFence(fencePath);
        // Record the token in the lock file for diagnostics; rename keeps the file whole for readers.
        const raw = await readText(lockPath);
        const rec = parseRecord(raw);
        if (!rec || rec.id !== id) throw new LockLostError(`lost the ${label} right after taking it: the file was replaced`, lockPath, token);
        await writeAtomic(lockPath, JSON.stringify({ token, ...rec }));
        return new LocalLease(lockPath, token, id, label);
      } catch (err) {
        await releaseIfOurs(lockPath, id);
        throw err;
      }
    },
    async holder() {
      const raw = await readText(lockPath);
      if (raw === undefined) return null;
      const rec = parseRecord(raw);
      if (!rec) return null;
      if (isStale(rec)) return null;
      const { id: _id, startTime: _st, ...held } = rec;
      return held;
    },
  };
}

class LocalLease implements LockHandle {
  #lost = false;
  #released = false;
  constructor(
    readonly key: string,
    readonly token: number,
    private readonly id: string,
    private readonly label: string,
  ) {}

  get lost(): boolean {
    return this.#lost;
  }

  async assertHeld(): Promise<void> {
    const why = this.#released ? 'it was released' : this.#lost ? 'the lock file was removed or replaced' : undefined;
    if (why) throw new LockLostError(`lost the ${this.label} (fencing token ${this.token}): ${why}`, this.key, this.token);
    const rec = parseRecord(await readText(this.key));
    if (!rec || rec.id !== this.id) {
      this.#lost = true;
      throw new LockLostError(
        `lost the ${this.label} (fencing token ${this.token}): the lock file was ${rec ? `taken by ${describeHolder(rec)}` : 'removed'}`,
        this.key,
        this.token,
      );
    }
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    // Nobody else removes the file of a live holder, so read-then-unlink cannot remove another's lock.
    await releaseIfOurs(this.key, this.id);
  }
}

async function releaseIfOurs(lockPath: string, id: string): Promise<void> {
  const rec = parseRecord(await readText(lockPath));
  if (rec?.id === id) await unlink(lockPath).catch(() => undefined);
}

/** How long a lock file that is not a record must sit unchanged before it counts as stale. */
export const UNREADABLE_STALE_MS = 5_000;

/**
 * An empty or unparsable lock file. Reconcile never writes one (the record appears whole, by
 * link(2)), so it is debris: a crash on a filesystem that lost the data, or another tool. It is
 * stale once it is UNREADABLE_STALE_MS old and no process has it open; open in a process, it is
 * reported at once (that process may use it its own way); younger, it is waited for (returns
 * the ms left), never the full lock wait. Undefined: stale, take it over.
 */
async function unreadableLockAge(lockPath: string, raw: string): Promise<number | undefined> {
  const st = await stat(lockPath).catch(() => null);
  if (!st) return 0; // gone meanwhile: try again at once
  const openIn = await processesWithOpen(lockPath);
  if (openIn.length) {
    throw new LockBackendError(
      `lock file ${lockPath} is not a reconcile lock record (${raw.length ? `${raw.length} bytes` : 'empty'}) and is open in ${openIn.join(', ')}; not taking it over: remove it once that process is done`,
      'io',
    );
  }
  const age = Date.now() - st.mtimeMs;
  return age >= UNREADABLE_STALE_MS ? undefined : Math.ceil(UNREADABLE_STALE_MS - age);
}

/** Processes (other than this one) with `file` open, as "pid N (comm)"; /proc is the running kernel's. */
async function processesWithOpen(file: string): Promise<string[]> {
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid);
  const found: string[] = [];
  await Promise.all(
    pids.map(async (pid) => {
      const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
      for (const fd of fds) {
        if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => null)) === file) {
          const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
          found.push(`pid ${pid} (${comm})`);
          return;
        }
      }
    }),
  );
  return found.sort();
}

/** Write content to a temp file, then link it into place: EEXIST means someone holds it. */
async function createExclusive(target: string, content: string): Promise<boolean> {
  const tmp = `${target}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  try {
    await writeFileSynced(tmp, content, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL);
    await link(tmp, target);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw ioError(e, `cannot create ${target}`);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function writeAtomic(target: string, content: string): Promise<void> {
  const tmp = `${target}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  try {
    await writeFileSynced(tmp, content, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL);
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw ioError(e, `cannot write ${target}`);
  }
}

async function writeFileSynced(file: string, content: string, flags: number): Promise<void> {
  const fh = await open(file, flags, 0o644);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Only called while holding the lock, so read-increment-write is not racy. */
async function bumpFence(fencePath: string): Promise<number> {
  const text = await readText(fencePath);
  const prev = text === undefined || text.trim() === '' ? 0 : Number(text.trim());
  if (!Number.isSafeInteger(prev) || prev < 0)
    throw new LockBackendError(`fencing counter ${fencePath} does not hold a number: fix or remove it`, 'wrongtype');
  const next = prev + 1;
  await writeAtomic(fencePath, `${next}\n`);
  return next;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(e, `cannot read ${file}`);
  }
}

function parseRecord(raw: string | undefined): FileRecord | undefined {
  const h = parseHolder(raw);
  if (!h || raw === undefined) return undefined;
  const o = JSON.parse(raw) as Record<string, unknown>;
  return {
    ...h,
    id: typeof o.id === 'string' ? o.id : '',
    ...(typeof o.startTime === 'number' ? { startTime: o.startTime } : {}),
  };
}

function isStale(rec: { pid: number; startTime?: number }): boolean {
  if (!Number.isInteger(rec.pid) || rec.pid <= 0) return true;
  if (!pidExists(rec.pid)) return true;
  const stat = procStat(rec.pid);
  if (!stat) return false; // no /proc: kill(pid, 0) is all we know
  if (stat[0] === 'Z') return true; // exited, not yet reaped
  // A different start time means the pid now belongs to an unrelated, later process.
  return rec.startTime !== undefined && startTimeOf(rec.pid, stat) !== rec.startTime;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: alive, just not ours to signal.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Fields of /proc/<pid>/stat after "pid (comm) ": the name may hold spaces and parentheses. */
function procStat(pid: number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

function startTimeOf(pid: number, stat = procStat(pid)): number | undefined {
  // Field 22 of the whole line is index 19 here.
  const v = Number(stat?.[19]);
  return Number.isFinite(v) ? v : undefined;
}

function ioError(e: unknown, what: string): LockBackendError {
  if (e instanceof LockBackendError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : code === 'EROFS'
        ? 'read-only file system'
        : code === 'ENOSPC'
          ? 'no space left on device'
          : code === 'ENOTDIR'
            ? 'a parent is not a directory'
            : ((e as Error).message ?? String(e));
  return new LockBackendError(`${what}: ${why}`, 'io', { cause: e });
}
