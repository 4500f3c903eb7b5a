/**
 * Disk and per-process IO over an interval: what `sar -d`/`iostat -x` and `iotop` show.
 * Counters are sampled twice; everything between the samples is pure arithmetic on deltas.
 */
import { promises as fsp } from 'node:fs';
import { commandLine, listPids, mapLimit, parseIo, parseStat, readCmdline, type ProcIo } from '../host/proc.js';

/** One line of /proc/diskstats (Documentation/admin-guide/iostats.rst). Sectors are 512 bytes. */
export interface DiskStat {
  major: number;
  minor: number;
  name: string;
  reads: number;
  readsMerged: number;
  sectorsRead: number;
  msReading: number;
  writes: number;
  writesMerged: number;
  sectorsWritten: number;
  msWriting: number;
  inFlight: number;
  /** ms during which at least one request was in flight: the basis of %util. */
  ioTicks: number;
  /** Sum of in-flight time of all requests: the basis of aqu-sz. */
  weightedMs: number;
  discards: number;
  msDiscarding: number;
  flushes: number;
  msFlushing: number;
}

export function parseDiskstats(text: string): DiskStat[] {
  const out: DiskStat[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const n = (i: number): number => Number(f[i] ?? 0) || 0;
    out.push({
      major: n(0),
      minor: n(1),
      name: f[2]!,
      reads: n(3),
      readsMerged: n(4),
      sectorsRead: n(5),
      msReading: n(6),
      writes: n(7),
      writesMerged: n(8),
      sectorsWritten: n(9),
      msWriting: n(10),
      inFlight: n(11),
      ioTicks: n(12),
      weightedMs: n(13),
      // Kernel 4.18+ adds discards (14-17), 5.5+ flushes (18-19); older lines read as zero.
      discards: n(14),
      msDiscarding: n(17),
      flushes: n(18),
      msFlushing: n(19),
    });
  }
  return out;
}

export interface DeviceIo {
  name: string;
  major: number;
  minor: number;
  readsPerSec: number;
  writesPerSec: number;
  readKBPerSec: number;
  writeKBPerSec: number;
  /** Average ms per request, queueing included (sar -d `await`). Null when there was no request. */
  awaitMs: number | null;
  readAwaitMs: number | null;
  writeAwaitMs: number | null;
  /** Average queue length (aqu-sz). */
  queueSize: number;
  /** Share of the interval the device was busy, 0-100. */
  utilPct: number;
}

/** Devices that are never real disks: loop, ram and zram, device-mapper is kept (LVM is real). */
export function isVirtualDevice(name: string): boolean {
  return /^(loop|ram|zram)\d+$/.test(name);
}

export interface DiskDeltaOptions {
  /** Keep idle loop/ram/zram devices and never-used devices too. */
  all?: boolean;
}

// Counters are unsigned and wrap (32-bit on some fields of old kernels); a negative delta is a wrap or reset.
const d = (a: number, b: number): number => (b >= a ? b - a : 0);

/**
 * Per-device rates between two samples taken `elapsedMs` apart. Devices that exist only in one
 * sample (hot-plugged) are left out. Without `all`, virtual devices idle in the interval and
 * devices that never did any IO are skipped, as sar's `-p` listing would drop them.
 */
export function diskDelta(before: readonly DiskStat[], after: readonly DiskStat[], elapsedMs: number, options: DiskDeltaOptions = {}): DeviceIo[] {
  const prev = new Map(before.map((s) => [s.name, s]));
  const secs = elapsedMs / 1000;
  const out: DeviceIo[] = [];
  for (const b of after) {
    const a = prev.get(b.name);
    if (a === undefined || elapsedMs <= 0) continue;
    const reads = d(a.reads, b.reads);
    const writes = d(a.writes, b.writes);
    const discards = d(a.discards, b.discards);
    const ios = reads + writes + discards;
    const everUsed = b.reads + b.writes + b.discards + b.flushes > 0;
    if (!options.all && (!everUsed || (isVirtualDevice(b.name) && ios === 0))) continue;
    const rTicks = d(a.msReading, b.msReading);
    const wTicks = d(a.msWriting, b.msWriting);
    const dTicks = d(a.msDiscarding, b.msDiscarding);
    out.push({
      name: b.name,
      major: b.major,
      minor: b.minor,
      readsPerSec: reads / secs,
      writesPerSec: writes / secs,
      readKBPerSec: (d(a.sectorsRead, b.sectorsRead) * 512) / 1024 / secs,
      writeKBPerSec: (d(a.sectorsWritten, b.sectorsWritten) * 512) / 1024 / secs,
      awaitMs: ios > 0 ? (rTicks + wTicks + dTicks) / ios : null,
      readAwaitMs: reads > 0 ? rTicks / reads : null,
      writeAwaitMs: writes > 0 ? wTicks / writes : null,
      queueSize: d(a.weightedMs, b.weightedMs) / elapsedMs,
      // io_ticks can exceed wall time by a tick on a busy device; sar clamps the same way.
      utilPct: Math.min(100, (d(a.ioTicks, b.ioTicks) / elapsedMs) * 100),
    });
  }
  return out;
}

export async function readDiskstats(): Promise<DiskStat[]> {
  return parseDiskstats(await fsp.readFile('/proc/diskstats', 'utf8'));
}

// ---- per-process IO ----

export interface ProcIoSample {
  pid: number;
  comm: string;
  /** With pid, tells a process from a later one that reused its pid. */
  startTime: number;
  io: ProcIo;
}

export interface ProcessIo {
  pid: number;
  comm: string;
  cmdline: string;
  /** Storage-level bytes per second (read_bytes, write_bytes): what iotop shows. */
  readBytesPerSec: number;
  writeBytesPerSec: number;
  /** Bytes per second through read()/write() calls, cache hits included. */
  rcharPerSec: number;
  wcharPerSec: number;
  /** The process started during the interval: its whole counters are the delta. */
  new: boolean;
}

/** Per-process rates between two samples; a process present only in `after` started within the interval. */
export function procIoDelta(before: readonly ProcIoSample[], after: readonly ProcIoSample[], elapsedMs: number): Omit<ProcessIo, 'cmdline'>[] {
  const prev = new Map(before.map((s) => [s.pid, s]));
  const secs = elapsedMs / 1000;
  const out: Omit<ProcessIo, 'cmdline'>[] = [];
  if (secs <= 0) return out;
  for (const b of after) {
    const p = prev.get(b.pid);
    const a = p !== undefined && p.startTime === b.startTime ? p : undefined;
    const base = a?.io;
    out.push({
      pid: b.pid,
      comm: b.comm,
      readBytesPerSec: d(base?.readBytes ?? 0, b.io.readBytes) / secs,
      writeBytesPerSec: d(base?.writeBytes ?? 0, b.io.writeBytes) / secs,
      rcharPerSec: d(base?.rchar ?? 0, b.io.rchar) / secs,
      wcharPerSec: d(base?.wchar ?? 0, b.io.wchar) / secs,
      new: a === undefined,
    });
  }
  return out;
}

export function topWriters<T extends Pick<ProcessIo, 'writeBytesPerSec' | 'wcharPerSec'>>(procs: readonly T[], n: number): T[] {
  return procs
    .filter((p) => p.writeBytesPerSec > 0 || p.wcharPerSec > 0)
    .sort((a, b) => b.writeBytesPerSec - a.writeBytesPerSec || b.wcharPerSec - a.wcharPerSec)
    .slice(0, n);
}

export function topReaders<T extends Pick<ProcessIo, 'readBytesPerSec' | 'rcharPerSec'>>(procs: readonly T[], n: number): T[] {
  return procs
    .filter((p) => p.readBytesPerSec > 0 || p.rcharPerSec > 0)
    .sort((a, b) => b.readBytesPerSec - a.readBytesPerSec || b.rcharPerSec - a.rcharPerSec)
    .slice(0, n);
}

async function sampleOne(pid: number): Promise<ProcIoSample | null> {
  try {
    const [stat, io] = await Promise.all([fsp.readFile(`/proc/${pid}/stat`, 'utf8'), fsp.readFile(`/proc/${pid}/io`, 'utf8')]);
    const s = parseStat(stat);
    return { pid, comm: s.comm, startTime: s.startTime, io: parseIo(io) };
  } catch {
    return null; // gone, or not ours to read
  }
}

export async function sampleProcIo(): Promise<ProcIoSample[]> {
  const samples = await mapLimit(await listPids(), 32, sampleOne);
  return samples.filter((s): s is ProcIoSample => s !== null);
}

export interface IoSample {
  intervalMs: number;
  devices: DeviceIo[];
  topWriters: ProcessIo[];
  topReaders: ProcessIo[];
}

export interface SampleIoOptions {
  intervalMs: number;
  /** How many processes to list per side. */
  top?: number;
  allDevices?: boolean;
}

/** Samples disks and processes twice, `intervalMs` apart, and names the busiest processes. */
export async function sampleIo(options: SampleIoOptions): Promise<IoSample> {
  const top = options.top ?? 10;
  const [disks0, procs0] = await Promise.all([readDiskstats(), sampleProcIo()]);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, options.intervalMs));
  const [disks1, procs1] = await Promise.all([readDiskstats(), sampleProcIo()]);
  const elapsed = performance.now() - t0;
  const rates = procIoDelta(procs0, procs1, elapsed);
  const withCmd = async (p: Omit<ProcessIo, 'cmdline'>): Promise<ProcessIo> => ({
    ...p,
    cmdline: commandLine({ comm: p.comm, cmdline: await readCmdline(p.pid) }),
  });
  const [writers, readers] = await Promise.all([
    Promise.all(topWriters(rates, top).map(withCmd)),
    Promise.all(topReaders(rates, top).map(withCmd)),
  ]);
  return {
    intervalMs: Math.round(elapsed),
    devices: diskDelta(disks0, disks1, elapsed, { all: options.allDevices }),
    topWriters: writers,
    topReaders: readers,
  };
}
