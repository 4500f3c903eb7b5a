import { describe, expect, it } from 'vitest';
import { deriveFindings, doctorExitCode, mountsToProbe, parseFailedUnitsJson, parseFailedUnitsPlain, renderDoctorJson, renderDoctorText, type DoctorReport, type FindingInput } from './doctor.js';
import { parseMountInfo } from '../host/mounts.js';
import type { DeviceIo, ProcessIo } from './diskio.js';

const dev = (name: string, v: Partial<DeviceIo> = {}): DeviceIo => ({
  name, major: 254, minor: 0, readsPerSec: 0, writesPerSec: 0, readKBPerSec: 0, writeKBPerSec: 0, awaitMs: null, readAwaitMs: null, writeAwaitMs: null, queueSize: 0, utilPct: 0, ...v,
});
const pio = (pid: number, comm: string, cmdline: string, w: number): ProcessIo => ({ pid, comm, cmdline, readBytesPerSec: 0, writeBytesPerSec: w, rcharPerSec: 0, wcharPerSec: w, new: false });

const quiet: FindingInput = {
  intervalMs: 1000,
  probeDeadlineMs: 2000,
  disks: [dev('vda', { writesPerSec: 3, writeKBPerSec: 12, awaitMs: 0.5, utilPct: 0.4 })],
  topWriters: [],
  topReaders: [],
  mounts: { total: 20, probed: [], stale: [] },
  dState: [],
  units: { status: 'not running', systemState: 'offline', failed: [], note: 'systemd is not PID 1 here: offline' },
  replication: { status: 'not configured' },
  notes: ['units: systemd not running'],
};

const report = (input: FindingInput): DoctorReport => ({ formatVersion: 1, host: 'h1', takenAt: '2026-01-01T00:00:00.000Z', ...input, findings: deriveFindings(input) });

describe('failed units', () => {
  it('parses systemctl --output=json', () => {
    const json = '[{"unit":"nginx.service","load":"loaded","active":"failed","sub":"failed","description":"A high performance web server"}]';
    expect(parseFailedUnitsJson(json)).toEqual([{ unit: 'nginx.service', load: 'loaded', active: 'failed', sub: 'failed', description: 'A high performance web server' }]);
    expect(parseFailedUnitsJson('[]')).toEqual([]);
  });

  it('parses the plain form, with or without the bullet', () => {
    const plain = '● nginx.service loaded failed failed A high performance web server\nfoo.mount     loaded failed failed /foo\n';
    expect(parseFailedUnitsPlain(plain).map((u) => [u.unit, u.sub, u.description])).toEqual([
      ['nginx.service', 'failed', 'A high performance web server'],
      ['foo.mount', 'failed', '/foo'],
    ]);
  });
});

describe('mountsToProbe', () => {
  it('skips pseudo filesystems and autofs, keeps one entry per mount point (the top one)', () => {
    const mounts = parseMountInfo(
      [
        '21 26 0:20 / /proc rw - proc proc rw',
        '26 1 254:0 / / rw - ext4 /dev/vda rw',
        '30 26 0:30 / /net rw - autofs systemd-1 rw',
        '41 26 0:38 / /tmp/m rw - tmpfs tmpfs rw',
        '42 26 0:39 / /tmp/m rw - fuse /tmp/src rw',
      ].join('\n'),
    );
    expect(mountsToProbe(mounts).map((m) => `${m.mountPoint}:${m.fstype}`)).toEqual(['/:ext4', '/tmp/m:fuse']);
  });
});

describe('deriveFindings', () => {
  it('says all is well on a quiet host', () => {
    const f = deriveFindings(quiet);
    expect(f).toEqual([{ severity: 'ok', area: 'disk', message: expect.stringMatching(/no stale mounts/) }]);
    expect(doctorExitCode(report(quiet))).toBe(0);
  });

  it('makes a stale mount critical, with server and remedies', () => {
    const stale = { mountPoint: '/srv/data', fstype: 'nfs4', source: 'filer:/data', ok: false, ms: 2000, error: 'no answer within 2000 ms', server: 'filer', version: '4.2' };
    const f = deriveFindings({ ...quiet, mounts: { total: 21, probed: [stale], stale: [stale] } });
    expect(f[0]).toEqual({
      severity: 'crit',
      area: 'mount',
      message: 'stale mount /srv/data (nfs4 vers=4.2 from filer:/data (server filer)): no answer within 2000 ms; remedies: umount -f /srv/data, umount -l /srv/data, or remount with nfsvers=3 / nolock',
    });
    expect(doctorExitCode(report({ ...quiet, mounts: { total: 21, probed: [stale], stale: [stale] } }))).toBe(2);
  });

  it('names the user-space writer behind a saturated disk, not jbd2', () => {
    const input = {
      ...quiet,
      disks: [dev('vda', { writesPerSec: 900, writeKBPerSec: 200000, awaitMs: 12, utilPct: 98 })],
      topWriters: [pio(300, 'jbd2/vda-8', '[jbd2/vda-8]', 9e8), pio(4242, 'dd', 'dd if=/dev/zero of=/var/tmp/x bs=1M', 2e8)],
    };
    const f = deriveFindings(input);
    expect(f[0]!.severity).toBe('crit');
    expect(f[0]!.message).toMatch(/^vda 98% busy, await 12\.0 ms, 900 w\/s 200000 kB\/s written: saturated; top writer dd \(pid 4242\) 200\.0 MB\/s$/);
  });

  it('warns about processes stuck in D state and failed units, not about passing D states', () => {
    const f = deriveFindings({
      ...quiet,
      dState: [
        { pid: 7, comm: 'ls', wchan: 'rpc_wait_bit_killable', waitKind: 'nfs', cmdline: 'ls /srv', persistent: true },
        { pid: 8, comm: 'cp', wchan: 'io_schedule', waitKind: 'disk', cmdline: 'cp a b', persistent: false },
      ],
      units: { status: 'checked', systemState: 'degraded', failed: [{ unit: 'x.service', load: 'loaded', active: 'failed', sub: 'failed', description: 'X', lastLog: ['x: bad config'] }] },
    });
    expect(f.map((x) => `${x.severity} ${x.message}`)).toEqual([
      'warn ls (pid 7) stuck in D state at rpc_wait_bit_killable (nfs): ls /srv',
      'warn unit x.service failed (failed): x: bad config',
    ]);
  });
});

describe('render', () => {
  const input: FindingInput = {
    ...quiet,
    disks: [dev('vda', { writesPerSec: 120.5, writeKBPerSec: 51234.25, awaitMs: 3.21, queueSize: 0.4, utilPct: 55.5 }), dev('nvme0n1', { readsPerSec: 1 })],
    topWriters: [pio(4242, 'dd', 'dd if=/dev/zero of=/var/tmp/x bs=1M', 52_000_000)],
  };

  it('lays out the devices like sar -d, then processes, then findings', () => {
    const text = renderDoctorText(report(input));
    const lines = text.split('\n');
    const header = lines.findIndex((l) => l.startsWith('DEV'));
    expect(lines[header]).toBe('DEV            r/s       w/s     rkB/s     wkB/s     await    aqu-sz     %util');
    expect(lines[header + 1]).toBe('vda           0.00    120.50      0.00  51234.25      3.21      0.40     55.50');
    expect(lines[header + 2]).toBe('nvme0n1       1.00      0.00      0.00      0.00         -      0.00      0.00');
    expect(text.indexOf('TOP WRITERS')).toBeGreaterThan(header);
    expect(text).toMatch(/^\s+4242 dd\s+52\.0 MB\s+0 B\s+52\.0 MB\s+0 B  dd if=\/dev\/zero of=\/var\/tmp\/x bs=1M$/m);
    expect(text).toMatch(/^UNITS: systemd not running/m);
    expect(text).toMatch(/^REPLICATION: not configured$/m);
    expect(text.indexOf('FINDINGS')).toBeGreaterThan(text.indexOf('TOP WRITERS'));
    expect(text).toMatch(/^  OK    io          top writer dd \(pid 4242\) 52\.0 MB\/s: dd if=\/dev\/zero/m);
  });

  it('gives JSON with formatVersion 1 that round-trips', () => {
    const r = report(input);
    const parsed = JSON.parse(renderDoctorJson(r)) as DoctorReport;
    expect(parsed.formatVersion).toBe(1);
    expect(parsed).toEqual(r);
  });
});
