import { describe, expect, it } from 'vitest';
import { diskDelta, parseDiskstats, procIoDelta, topReaders, topWriters, type DiskStat, type ProcIoSample } from './diskio.js';

// Captured from this VM (kernel 6.x, 20 fields), plus a 14-field line of an old kernel.
const DISKSTATS = `   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 29468 5980 1359186 6455 6579 11515 725240 4935 0 4412 12118 5117 7 140120 534 761 192
 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
   8       1 sda1 100 0 800 50 10 0 80 20 0 60 70
`;

const disk = (name: string, v: Partial<DiskStat>): DiskStat => ({
  major: 8, minor: 0, name, reads: 0, readsMerged: 0, sectorsRead: 0, msReading: 0, writes: 0, writesMerged: 0, sectorsWritten: 0,
  msWriting: 0, inFlight: 0, ioTicks: 0, weightedMs: 0, discards: 0, msDiscarding: 0, flushes: 0, msFlushing: 0, ...v,
});

describe('parseDiskstats', () => {
  it('reads the 20-field form with discards and flushes', () => {
    const [, vda] = parseDiskstats(DISKSTATS);
    expect(vda).toMatchObject({ major: 254, name: 'vda', reads: 29468, sectorsRead: 1359186, msReading: 6455, writes: 6579, sectorsWritten: 725240, msWriting: 4935, inFlight: 0, ioTicks: 4412, weightedMs: 12118, discards: 5117, msDiscarding: 534, flushes: 761, msFlushing: 192 });
  });

  it('reads the old 14-field form, missing counters as zero', () => {
    const sda1 = parseDiskstats(DISKSTATS).find((d) => d.name === 'sda1')!;
    expect(sda1).toMatchObject({ reads: 100, writes: 10, ioTicks: 60, weightedMs: 70, discards: 0, flushes: 0 });
  });

  it('skips lines that are not disk lines', () => {
    expect(parseDiskstats('\nnonsense\n')).toEqual([]);
  });
});

describe('diskDelta', () => {
  it('computes what sar -d shows', () => {
    const a = [disk('vda', { reads: 100, writes: 50, sectorsRead: 0, sectorsWritten: 0, ioTicks: 1000, weightedMs: 0 })];
    const b = [disk('vda', { reads: 200, writes: 150, sectorsRead: 2048, sectorsWritten: 8192, msReading: 500, msWriting: 1500, ioTicks: 1800, weightedMs: 2500 })];
    const [d] = diskDelta(a, b, 1000);
    expect(d).toMatchObject({ name: 'vda', readsPerSec: 100, writesPerSec: 100, readKBPerSec: 1024, writeKBPerSec: 4096, awaitMs: 10, readAwaitMs: 5, writeAwaitMs: 15, queueSize: 2.5, utilPct: 80 });
  });

  it('scales by the interval and clamps %util at 100', () => {
    const [d] = diskDelta([disk('vda', { writes: 1 })], [disk('vda', { writes: 5, msWriting: 8, ioTicks: 2100 })], 2000);
    expect(d!.writesPerSec).toBe(2);
    expect(d!.awaitMs).toBe(2);
    expect(d!.utilPct).toBe(100);
  });

  it('has no await without requests, and treats a counter that went back as zero', () => {
    const [d] = diskDelta([disk('vda', { writes: 500, reads: 3 })], [disk('vda', { writes: 10, reads: 3 })], 1000);
    expect(d!.writesPerSec).toBe(0);
    expect(d!.awaitMs).toBeNull();
  });

  it('drops idle loop/ram devices and never-used devices unless asked', () => {
    const a = [disk('loop0', {}), disk('loop1', { reads: 5 }), disk('vda', { reads: 5 }), disk('sdz', {})];
    const b = [disk('loop0', {}), disk('loop1', { reads: 5 }), disk('vda', { reads: 5 }), disk('sdz', {}), disk('new', { reads: 1 })];
    expect(diskDelta(a, b, 1000).map((d) => d.name)).toEqual(['vda']);
    expect(diskDelta(a, b, 1000, { all: true }).map((d) => d.name)).toEqual(['loop0', 'loop1', 'vda', 'sdz']);
    const busyLoop = [disk('loop1', { reads: 9 })];
    expect(diskDelta(a, busyLoop, 1000).map((d) => d.name)).toEqual(['loop1']);
  });
});

describe('per-process IO', () => {
  const io = (w: number, r = 0, wchar = w, rchar = r) => ({ rchar, wchar, syscr: 0, syscw: 0, readBytes: r, writeBytes: w, cancelledWriteBytes: 0 });
  const s = (pid: number, comm: string, startTime: number, i: ProcIoSample['io']): ProcIoSample => ({ pid, comm, startTime, io: i });

  it('rates per second, a new or reused pid counted from zero', () => {
    const before = [s(1, 'a', 10, io(1000)), s(2, 'b', 10, io(5000)), s(3, 'old', 10, io(9_000_000))];
    const after = [s(1, 'a', 10, io(3000)), s(2, 'b', 10, io(5000, 0, 5000, 800)), s(3, 'reuse', 99, io(500)), s(4, 'dd', 50, io(4_000_000))];
    const rates = procIoDelta(before, after, 2000);
    const by = (pid: number) => rates.find((r) => r.pid === pid)!;
    expect(by(1)).toMatchObject({ writeBytesPerSec: 1000, new: false });
    expect(by(3)).toMatchObject({ comm: 'reuse', writeBytesPerSec: 250, new: true });
    expect(by(4)).toMatchObject({ writeBytesPerSec: 2_000_000, new: true });
    expect(topWriters(rates, 2).map((r) => r.comm)).toEqual(['dd', 'a']);
    expect(topReaders(rates, 5).map((r) => r.comm)).toEqual(['b']); // rchar only: still a reader, ranked after storage readers
  });
});
