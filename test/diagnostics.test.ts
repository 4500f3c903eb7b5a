/**
 * Real diagnostics on this machine: a live dd writer, real process groups, a bindfs mount whose
 * daemon is frozen (SIGSTOP) to stand in for an NFS server that stopped answering, and a child
 * node process whose event loop stalls.
 */
import { spawn } from 'node:child_process';
import { promises as fsp, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDiskstats, sampleIo } from '../src/diagnostics/diskio.js';
import { renderDoctorJson, renderDoctorText, runDoctor, type DoctorReport } from '../src/diagnostics/doctor.js';
import { mountOf, readMountInfo } from '../src/host/mounts.js';
import { probeMounts } from '../src/host/probe.js';
import { runWithWatchdog } from '../src/host/watchdog.js';
import { classifyWchan, explainHang, renderWatchdogReport } from '../src/diagnostics/hang.js';
import { background, bindfsMount, isMounted, killBackground, type BindfsMount } from './helpers/diagMounts.js';
import { REPO } from './helpers/cli.js';

/** Alive means there and not a zombie (PID 1 here does not reap orphans: their zombies linger). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

let tmp: string;

beforeAll(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'reconcile-diagtest-'));
});

afterAll(async () => {
  await killBackground();
  await fsp.rm(tmp, { recursive: true, force: true });
});

describe('disk and process IO with a live dd writer', () => {
  let ddPid: number;

  beforeAll(async () => {
    // O_DIRECT: every write reaches the device during the interval, not later from the page cache.
    const dd = background(['dd', 'if=/dev/zero', `of=${path.join(tmp, 'ddfile')}`, 'bs=1M', 'count=100000', 'oflag=direct']);
    ddPid = dd.pid!;
    await new Promise((r) => setTimeout(r, 300));
    expect(isAlive(ddPid)).toBe(true);
  });

  afterAll(async () => {
    await killBackground();
    await fsp.rm(path.join(tmp, 'ddfile'), { force: true });
  });

  it('names dd among the top writers by pid and comm, and shows writes on the device of the temp dir', async () => {
    const io = await sampleIo({ intervalMs: 1000, top: 5 });
    const dd = io.topWriters.find((p) => p.pid === ddPid);
    expect(dd, JSON.stringify(io.topWriters)).toBeDefined();
    expect(dd!.comm).toBe('dd');
    expect(dd!.cmdline).toContain('oflag=direct');
    expect(dd!.writeBytesPerSec).toBeGreaterThan(1_000_000);

    // The device under the temp dir, found by the major:minor of its mount.
    const mount = mountOf(tmp, await readMountInfo())!;
    const [major, minor] = mount.device.split(':').map(Number);
    const disk = (await readDiskstats()).find((d) => d.major === major && d.minor === minor);
    expect(disk, `no diskstats line for ${mount.device}`).toBeDefined();
    const dev = io.devices.find((d) => d.name === disk!.name);
    expect(dev, JSON.stringify(io.devices.map((d) => d.name))).toBeDefined();
    expect(dev!.writesPerSec).toBeGreaterThan(0);
    expect(dev!.writeKBPerSec).toBeGreaterThan(1000);
    expect(dev!.utilPct).toBeGreaterThan(0);
  });

  it('doctor names the dd writer by pid within one sampling interval, in JSON and text', async () => {
    const report = await runDoctor({ intervalMs: 1000, probeDeadlineMs: 2000 });
    const json = JSON.parse(renderDoctorJson(report)) as DoctorReport;
    expect(json.formatVersion).toBe(1);
    expect(json.topWriters.some((p) => p.pid === ddPid && p.comm === 'dd')).toBe(true);
    expect(json.replication.status).toBe('not configured');
    // systemd is not PID 1 on this VM: a note, not a finding.
    expect(json.units.status).toBe('not running');
    expect(json.notes.join('\n')).toMatch(/systemd not running/);
    expect(json.findings.some((f) => f.area === 'units')).toBe(false);
    const text = renderDoctorText(report);
    expect(text).toMatch(new RegExp(`^\\s+${ddPid} dd\\s`, 'm'));
    expect(text).toMatch(/^DEV\s+r\/s\s+w\/s\s+rkB\/s\s+wkB\/s\s+await\s+aqu-sz\s+%util$/m);
  });
});

describe('runWithWatchdog', () => {
  it('returns the result of a command that ends in time', async () => {
    const r = await runWithWatchdog(['sh', '-c', 'echo hi; echo oops >&2; exit 3'], { timeoutMs: 10_000 });
    expect(r).toMatchObject({ exitCode: 3, stdout: 'hi\n', stderr: 'oops\n', timedOut: false, ok: false, hang: null });
    const ok = await runWithWatchdog(['cat'], { timeoutMs: 10_000, input: 'from stdin' });
    expect(ok).toMatchObject({ ok: true, exitCode: 0, stdout: 'from stdin' });
  });

  it('says when a command cannot start', async () => {
    const r = await runWithWatchdog(['/nonexistent/reconcile-cmd'], { timeoutMs: 1000 });
    expect(r.failedToStart).toBe(true);
    expect(r.stderr).toMatch(/ENOENT/);
  });

  it('ends a sleeping command at the deadline and reports it', async () => {
    const r = await runWithWatchdog(['sleep', '60'], { timeoutMs: 500, graceMs: 1000, describe: 'wait a minute' });
    expect(r.timedOut).toBe(true);
    expect(r.ok).toBe(false);
    expect(r.signal).toBe('SIGTERM');
    expect(r.durationMs).toBeLessThan(500 + 1000 + 3000);
    expect(r.hang!.processes).toEqual([expect.objectContaining({ pid: r.pid, comm: 'sleep', state: 'S', cmdline: 'sleep 60' })]);
    expect(classifyWchan(r.hang!.processes[0]!.wchan)).toBe('timer');
    expect(r.hang!.sigkillSent).toBe(false);
    expect(isAlive(r.pid!)).toBe(false);
    expect(renderWatchdogReport(r)).toMatch(/^wait a minute: no end within 500 ms/);
  });

  it('ends the whole process group, background children included', async () => {
    const r = await runWithWatchdog(['sh', '-c', 'sleep 60 & sleep 61'], { timeoutMs: 500, graceMs: 1000 });
    expect(r.timedOut).toBe(true);
    expect(r.durationMs).toBeLessThan(500 + 1000 + 3000);
    const cmds = r.hang!.processes.map((p) => p.cmdline).sort();
    expect(cmds).toEqual(['sh -c sleep 60 & sleep 61', 'sleep 60', 'sleep 61']);
    expect(r.hang!.processes.every((p) => p.pgrp === r.pid)).toBe(true);
    for (const p of r.hang!.processes) expect(isAlive(p.pid), `pid ${p.pid} ${p.cmdline} still alive`).toBe(false);
  });

  it('sends SIGKILL after the grace period to a group that ignores SIGTERM', async () => {
    const r = await runWithWatchdog(['sh', '-c', 'trap "" TERM; sleep 60; sleep 60'], { timeoutMs: 300, graceMs: 700 });
    expect(r.timedOut).toBe(true);
    expect(r.hang!.sigkillSent).toBe(true);
    expect(r.hang!.survivors).toEqual([]);
    expect(r.durationMs).toBeGreaterThanOrEqual(300 + 700);
    expect(r.durationMs).toBeLessThan(300 + 700 + 4000);
    expect(renderWatchdogReport(r)).toMatch(/SIGKILL after 700 ms/);
    for (const p of r.hang!.processes) expect(isAlive(p.pid)).toBe(false);
  });
});

describe('a hung mount (bindfs with its daemon stopped)', () => {
  let m: BindfsMount;

  beforeAll(async () => {
    m = await bindfsMount();
    // Before freezing: the mount answers, through the child too.
    const fine = await probeMounts([m.mountPoint], 5000);
    expect(fine.get(m.mountPoint)).toMatchObject({ ok: true });
    m.freeze();
    // The kernel answers stat from FUSE's attribute cache for 1 s after the check above; after
    // that every stat has to ask the frozen daemon.
    await new Promise((r) => setTimeout(r, 1500));
  });

  afterAll(async () => {
    await m?.cleanup();
    if (m) expect(isMounted(m.mountPoint)).toBe(false);
  });

  it('a stat of the mount point under the watchdog is killed at the deadline; the report names the wait and the mount', async () => {
    const r = await runWithWatchdog(['stat', m.mountPoint], { timeoutMs: 1500, graceMs: 1000, describe: `stat ${m.mountPoint}` });
    expect(r.timedOut).toBe(true);
    expect(r.durationMs).toBeLessThan(1500 + 1000 + 5000);
    const stat = r.hang!.processes.find((p) => p.pid === r.pid)!;
    expect(stat.comm).toBe('stat');
    // FUSE waits in request_wait_answer (S, killable) on this kernel; a dead NFS server shows D.
    expect(stat.state === 'D' || classifyWchan(stat.wchan) === 'fuse', `${stat.state} ${stat.wchan}`).toBe(true);
    expect(r.hang!.mounts).toEqual([expect.objectContaining({ mountPoint: m.mountPoint, fstype: expect.stringMatching(/^fuse/), source: m.src })]);
    expect(explainHang(r.hang!.processes, r.hang!.mounts).join('\n')).toMatch(/FUSE daemon does not answer/);
    const text = renderWatchdogReport(r);
    expect(text).toContain(m.mountPoint);
    expect(text).toMatch(/likely cause/);
    expect(isAlive(r.pid!)).toBe(false);
  });

  it('doctor lists the mount as stale, critical, with its source', async () => {
    const report = await runDoctor({ intervalMs: 300, probeDeadlineMs: 1500 });
    const stale = report.mounts.stale.find((s) => s.mountPoint === m.mountPoint);
    expect(stale, JSON.stringify(report.mounts.stale)).toMatchObject({ fstype: expect.stringMatching(/^fuse/), source: m.src, ok: false });
    // Only the frozen mount is stale: the others answered.
    expect(report.mounts.stale.map((s) => s.mountPoint)).toEqual([m.mountPoint]);
    expect(report.mounts.probed.find((p) => p.mountPoint === '/')).toMatchObject({ ok: true });
    const crit = report.findings.find((f) => f.severity === 'crit' && f.area === 'mount');
    expect(crit?.message).toContain(`stale mount ${m.mountPoint}`);
    expect(crit?.message).toContain(`umount -l ${m.mountPoint}`);
    expect(renderDoctorText(report)).toMatch(new RegExp(`STALE ${m.mountPoint.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+fuse`));
  });
});

describe('watchSelf', () => {
  // A plain node child imports the built code (`npm test` builds first).
  const lib = path.join(REPO, 'dist', 'host');

  function runNode(script: string): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('close', (code, signal) => {
        clearTimeout(guard);
        resolve({ code, signal, stdout, stderr });
      });
    });
  }

  it('ends a process whose event loop is stuck in a busy loop with exit 70, naming the activity', async () => {
    const r = await runNode(`
      import { watchSelf, setActivity } from ${JSON.stringify(path.join(lib, 'watchdog.js'))};
      watchSelf({ maxStallMs: 500 });
      setActivity('observe exports');
      setTimeout(() => {
        const t = Date.now();
        while (Date.now() - t < 3000) {}
        console.log('loop survived');
      }, 100);
    `);
    expect(r.code).toBe(70);
    expect(r.stdout).not.toContain('loop survived');
    expect(r.stderr).toMatch(/event loop stalled for \d+ ms \(limit 500 ms\) during: observe exports; exiting with code 70/);
  });

  it('leaves a process whose loop keeps turning alone, and does not keep it alive', async () => {
    const r = await runNode(`
      import { watchSelf, setActivity } from ${JSON.stringify(path.join(lib, 'watchdog.js'))};
      watchSelf({ maxStallMs: 300 });
      setActivity('short waits');
      let n = 0;
      const t = setInterval(() => { if (++n === 15) { clearInterval(t); console.log('done'); } }, 100);
    `);
    expect(r.stderr).not.toMatch(/stalled/);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('done\n');
  });
});
