import { describe, expect, it } from 'vitest';
import { classifyWchan, explainHang, renderWatchdogReport } from './hang.js';
import type { GroupProcess, WatchdogResult } from '../host/watchdog.js';
import type { MountRef } from '../host/mounts.js';

const proc = (pid: number, state: string, wchan: string | null, cmdline: string, pgrp = 100): GroupProcess => ({
  pid, ppid: pid === 100 ? 1 : 100, pgrp, state, stateName: state, wchan, comm: cmdline.split(' ')[0]!, cmdline,
});

const fuseMount: MountRef = { path: '/tmp/x/mnt', mountPoint: '/tmp/x/mnt', fstype: 'fuse', source: '/tmp/x/src', server: null, version: null };
const nfsMount: MountRef = { path: '/srv/data/f', mountPoint: '/srv/data', fstype: 'nfs4', source: 'filer:/data', server: 'filer', version: '4.2' };

describe('classifyWchan', () => {
  it('tells the usual kernel waits apart', () => {
    expect(classifyWchan('request_wait_answer')).toBe('fuse');
    expect(classifyWchan('fuse_simple_request')).toBe('fuse');
    expect(classifyWchan('rpc_wait_bit_killable')).toBe('nfs');
    expect(classifyWchan('nfs_wait_bit_killable')).toBe('nfs');
    expect(classifyWchan('io_schedule')).toBe('disk');
    expect(classifyWchan('folio_wait_bit_common')).toBe('disk');
    expect(classifyWchan('hrtimer_nanosleep')).toBe('timer');
    expect(classifyWchan('do_wait')).toBe('child');
    expect(classifyWchan('pipe_read')).toBe('pipe');
    expect(classifyWchan('futex_wait_queue')).toBe('lock');
    expect(classifyWchan(null)).toBeNull();
  });
});

describe('explainHang', () => {
  it('names a FUSE daemon that does not answer, with the mount and remedies', () => {
    const lines = explainHang([proc(100, 'S', 'request_wait_answer', 'stat /tmp/x/mnt')], [fuseMount]);
    expect(lines.join('\n')).toMatch(/mount \/tmp\/x\/mnt \(fuse, source \/tmp\/x\/src\): its FUSE daemon does not answer/);
    expect(lines.join('\n')).toMatch(/umount -f \/tmp\/x\/mnt/);
    expect(lines.join('\n')).toMatch(/waiting for a FUSE daemon to answer: stat\[100\] at request_wait_answer/);
  });

  it('calls out D state and an unreachable NFS server', () => {
    const lines = explainHang([proc(100, 'S', 'do_wait', 'sh -c ls /srv/data'), proc(101, 'D', 'rpc_wait_bit_killable', 'ls /srv/data')], [nfsMount]);
    expect(lines[0]).toMatch(/1 process\(es\) in D state .*ls\[101\] at rpc_wait_bit_killable/);
    expect(lines.join('\n')).toMatch(/NFS server filer likely unreachable or the file handle is stale; remedies: .*nfsvers=3 or nolock/);
    expect(lines.join('\n')).toMatch(/vers=4\.2/);
  });

  it('says a plain sleeper waits by itself, and ignores zombies', () => {
    const lines = explainHang([proc(100, 'S', 'hrtimer_nanosleep', 'sleep 60'), proc(101, 'Z', null, 'sh')], []);
    expect(lines).toEqual(['sleeping on a timer (the command waits by itself): sleep[100] at hrtimer_nanosleep']);
  });

  it('says when everything was on CPU', () => {
    expect(explainHang([proc(100, 'R', null, 'yes')], []).join()).toMatch(/busy loop/);
  });
});

describe('renderWatchdogReport', () => {
  const base: WatchdogResult = {
    argv: ['stat', '/tmp/x/mnt'], describe: 'check /tmp/x/mnt', pid: 100, exitCode: null, signal: 'SIGTERM', stdout: '', stderr: '',
    durationMs: 2100, timedOut: true, failedToStart: false, ok: false, hang: null,
  };

  it('shows what ran, for how long, each process and the mount', () => {
    const processes = [proc(100, 'S', 'request_wait_answer', 'stat /tmp/x/mnt')];
    const text = renderWatchdogReport({
      ...base,
      hang: { describe: 'check /tmp/x/mnt', argv: base.argv, runningMs: 2001, timeoutMs: 2000, graceMs: 1000, processes, mounts: [fuseMount], sigkillSent: false, survivors: [] },
    });
    expect(text).toMatch(/^check \/tmp\/x\/mnt: no end within 2000 ms \(ran 2001 ms\); sent SIGTERM to its process group$/m);
    expect(text).toMatch(/^\s+100\s+1\s+S\s+request_wait_answer\s+stat \/tmp\/x\/mnt$/m);
    expect(text).toMatch(/mounts involved:\n\s+\/tmp\/x\/mnt  fuse  \/tmp\/x\/src/);
    expect(text).not.toMatch(/SIGKILL/);
  });

  it('summarises a step that ended by itself', () => {
    expect(renderWatchdogReport({ ...base, timedOut: false, ok: true, signal: null, exitCode: 0, durationMs: 5 })).toBe('check /tmp/x/mnt: finished in 5 ms');
    expect(renderWatchdogReport({ ...base, timedOut: false, signal: null, exitCode: 3 })).toBe('check /tmp/x/mnt: exit 3 in 2100 ms');
  });
});
