/**
 * /proc readers. Parsers are pure and take the text of one file; readers are thin and return
 * null when the process is gone (a pid can vanish between listing /proc and reading it).
 *
 * Reads go through the libuv pool, never the main thread: reading /proc/<pid>/cmdline takes the
 * target's mm lock, which a process stuck in a page fault on a dead mount may hold.
 */
import { promises as fsp } from 'node:fs';

export interface ProcStat {
  pid: number;
  comm: string;
  /** One letter: R running, S sleeping, D uninterruptible (kernel wait), Z zombie, T stopped, I idle... */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Clock ticks since boot; with pid it identifies a process across pid reuse. */
  startTime: number;
}

export interface ProcIo {
  rchar: number;
  wchar: number;
  syscr: number;
  syscw: number;
  /** Bytes this process caused to be fetched from storage. */
  readBytes: number;
  /** Bytes this process caused to be sent to storage (dirtied pages, direct IO). */
  writeBytes: number;
  cancelledWriteBytes: number;
}

export interface ProcInfo extends ProcStat {
  /** Kernel function the task sleeps in; null when running or unknown. */
  wchan: string | null;
  /** Empty for kernel threads. */
  cmdline: string[];
}

const STATE_NAMES: Record<string, string> = {
  R: 'running',
  S: 'sleeping',
  D: 'uninterruptible wait (kernel)',
  Z: 'zombie',
  T: 'stopped',
  t: 'traced',
  X: 'dead',
  I: 'idle',
  P: 'parked',
  W: 'paging',
  K: 'wakekill',
};

export function stateName(state: string): string {
  return STATE_NAMES[state] ?? state;
}

/**
 * Parses /proc/<pid>/stat. comm may hold spaces and parentheses (`(sd-pam)`, `a) b (c`), so it is
 * everything between the first '(' and the LAST ')'; the fields after it never contain ')'.
 */
export function parseStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  const pid = Number(text.slice(0, open).trim());
  const comm = text.slice(open + 1, close);
  // Fields after comm, numbered from 3 as in proc(5): state(3) ppid(4) pgrp(5) session(6) ... starttime(22).
  const rest = text.slice(close + 1).trim().split(/\s+/);
  const field = (n: number): string => rest[n - 3] ?? '';
  const state = field(3);
  if (!Number.isInteger(pid) || state === '') throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  return {
    pid,
    comm,
    state,
    ppid: Number(field(4)),
    pgrp: Number(field(5)),
    session: Number(field(6)),
    startTime: Number(field(22) || 0),
  };
}

/** `0` (or nothing) means the task is not sleeping in a named kernel function. */
export function parseWchan(text: string): string | null {
  const w = text.trim();
  return w === '' || w === '0' ? null : w;
}

/** NUL-separated arguments; a trailing NUL is not an empty argument. */
export function parseCmdline(text: string): string[] {
  if (text === '') return [];
  const parts = text.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

export function parseIo(text: string): ProcIo {
  const v: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s*(\d+)/.exec(line);
    if (m) v[m[1]!] = Number(m[2]);
  }
  return {
    rchar: v.rchar ?? 0,
    wchar: v.wchar ?? 0,
    syscr: v.syscr ?? 0,
    syscw: v.syscw ?? 0,
    readBytes: v.read_bytes ?? 0,
    writeBytes: v.write_bytes ?? 0,
    cancelledWriteBytes: v.cancelled_write_bytes ?? 0,
  };
}

/** How a process is shown in one line: its argv, or `[comm]` for a kernel thread. */
export function commandLine(p: Pick<ProcInfo, 'comm' | 'cmdline'>): string {
  // Programs that set their title (npm, postgres) pad argv with spaces: drop the padding.
  const line = p.cmdline.join(' ').trim();
  return line !== '' ? line : `[${p.comm}]`;
}

/** Every pid whose ancestry reaches `root` (not including root itself), from one snapshot. */
export function descendantsOf(root: number, procs: readonly Pick<ProcStat, 'pid' | 'ppid'>[]): number[] {
  const children = new Map<number, number[]>();
  for (const p of procs) {
    const list = children.get(p.ppid);
    if (list) list.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  const out: number[] = [];
  const queue = [root];
  const seen = new Set<number>([root]);
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      if (seen.has(c)) continue;
      seen.add(c);
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

export function groupMembers<T extends Pick<ProcStat, 'pgrp'>>(pgrp: number, procs: readonly T[]): T[] {
  return procs.filter((p) => p.pgrp === pgrp);
}

// ---- readers (the thin edge) ----

const PROC = '/proc';

async function readOrNull(file: string): Promise<string | null> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch {
    // ENOENT/ESRCH: the process ended; EACCES: not ours to see. Either way there is nothing to show.
    return null;
  }
}

export async function listPids(): Promise<number[]> {
  const names = await fsp.readdir(PROC);
  return names.filter((n) => /^\d+$/.test(n)).map(Number);
}

export async function readStat(pid: number): Promise<ProcStat | null> {
  const t = await readOrNull(`${PROC}/${pid}/stat`);
  if (t === null) return null;
  try {
    return parseStat(t);
  } catch {
    return null;
  }
}

export async function readWchan(pid: number): Promise<string | null> {
  const t = await readOrNull(`${PROC}/${pid}/wchan`);
  return t === null ? null : parseWchan(t);
}

export async function readCmdline(pid: number): Promise<string[]> {
  const t = await readOrNull(`${PROC}/${pid}/cmdline`);
  return t === null ? [] : parseCmdline(t);
}

export async function readProc(pid: number): Promise<ProcInfo | null> {
  const stat = await readStat(pid);
  if (stat === null) return null;
  const [wchan, cmdline] = await Promise.all([readWchan(pid), readCmdline(pid)]);
  return { ...stat, wchan, cmdline };
}

/** Runs `fn` over items with at most `limit` in flight: thousands of pids must not flood the pool. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A snapshot of every process's stat line (no wchan/cmdline: cheap enough to take often). */
export async function readAllStats(): Promise<ProcStat[]> {
  const stats = await mapLimit(await listPids(), 32, readStat);
  return stats.filter((s): s is ProcStat => s !== null);
}

export async function readProcs(pids: readonly number[]): Promise<ProcInfo[]> {
  const procs = await mapLimit(pids, 32, readProc);
  return procs.filter((p): p is ProcInfo => p !== null);
}

/** Members of a process group plus any descendant of `leader` that left the group. */
export async function processTree(leader: number): Promise<ProcInfo[]> {
  const stats = await readAllStats();
  const pids = new Set<number>(groupMembers(leader, stats).map((s) => s.pid));
  if (stats.some((s) => s.pid === leader)) pids.add(leader);
  for (const d of descendantsOf(leader, stats)) pids.add(d);
  return readProcs([...pids].sort((a, b) => a - b));
}
