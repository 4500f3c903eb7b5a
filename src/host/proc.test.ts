import { describe, expect, it } from 'vitest';
import { commandLine, descendantsOf, groupMembers, parseCmdline, parseIo, parseStat, parseWchan, stateName } from './proc.js';

// Captured from this kernel (6.x): a `sleep` started from bash.
const SLEEP_STAT =
  '4758 (sleep) S 4753 4753 3574 0 -1 4194304 127 0 0 0 0 0 0 0 20 0 1 0 22871 2990080 420 18446744073709551615 94089288855552 94089288873481 140720348648848 0 0 0 0 6 0 1 0 0 17 0 0 0 0 0 0 94089288887568 94089288888832 94089646809088 140720348654118 140720348654126 140720348654126 140720348655593 0\n';

describe('parseStat', () => {
  it('reads state, ppid, pgrp, session and start time', () => {
    expect(parseStat(SLEEP_STAT)).toEqual({ pid: 4758, comm: 'sleep', state: 'S', ppid: 4753, pgrp: 4753, session: 3574, startTime: 22871 });
  });

  it('takes comm up to the LAST parenthesis, spaces and parentheses included', () => {
    const s = parseStat('1234 (a) b (c) D 1 1234 1234 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0');
    expect(s).toMatchObject({ pid: 1234, comm: 'a) b (c', state: 'D', ppid: 1, pgrp: 1234, startTime: 99 });
  });

  it('handles a comm that is itself in parentheses, like (sd-pam)', () => {
    expect(parseStat('812 ((sd-pam)) S 811 811 811 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0')).toMatchObject({ comm: '(sd-pam)', state: 'S', ppid: 811 });
  });

  it('reads kernel threads (ppid 2, pgrp 0)', () => {
    expect(parseStat('123 (jbd2/vda-8) D 2 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 7 0 0')).toMatchObject({ comm: 'jbd2/vda-8', state: 'D', ppid: 2, pgrp: 0 });
  });

  it('rejects text that is not a stat line', () => {
    expect(() => parseStat('garbage')).toThrow(/stat line/);
  });
});

describe('parseWchan / parseCmdline / parseIo', () => {
  it('treats 0 and empty as no wait channel', () => {
    expect(parseWchan('0')).toBeNull();
    expect(parseWchan('')).toBeNull();
    expect(parseWchan('request_wait_answer')).toBe('request_wait_answer');
  });

  it('splits argv on NUL without a trailing empty argument, keeps empty arguments inside', () => {
    expect(parseCmdline('dd\0if=/dev/zero\0of=/tmp/x\0')).toEqual(['dd', 'if=/dev/zero', 'of=/tmp/x']);
    expect(parseCmdline('sh\0-c\0\0')).toEqual(['sh', '-c', '']);
    expect(parseCmdline('')).toEqual([]);
  });

  it('reads /proc/<pid>/io', () => {
    const io = parseIo('rchar: 6976\nwchar: 100\nsyscr: 10\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 1048576\ncancelled_write_bytes: 0\n');
    expect(io).toEqual({ rchar: 6976, wchar: 100, syscr: 10, syscw: 2, readBytes: 4096, writeBytes: 1048576, cancelledWriteBytes: 0 });
  });

  it('shows kernel threads in brackets', () => {
    expect(commandLine({ comm: 'kworker/0:1', cmdline: [] })).toBe('[kworker/0:1]');
    expect(commandLine({ comm: 'dd', cmdline: ['dd', 'if=/dev/zero'] })).toBe('dd if=/dev/zero');
    expect(stateName('D')).toMatch(/uninterruptible/);
  });
});

describe('process tree', () => {
  const procs = [
    { pid: 1, ppid: 0, pgrp: 1 },
    { pid: 10, ppid: 1, pgrp: 10 },
    { pid: 11, ppid: 10, pgrp: 10 },
    { pid: 12, ppid: 11, pgrp: 12 }, // left the group with setsid
    { pid: 13, ppid: 12, pgrp: 12 },
    { pid: 20, ppid: 1, pgrp: 20 },
  ];

  it('finds every descendant, also those that left the group', () => {
    expect(descendantsOf(10, procs).sort((a, b) => a - b)).toEqual([11, 12, 13]);
    expect(descendantsOf(13, procs)).toEqual([]);
  });

  it('lists group members', () => {
    expect(groupMembers(10, procs).map((p) => p.pid)).toEqual([10, 11]);
  });
});
