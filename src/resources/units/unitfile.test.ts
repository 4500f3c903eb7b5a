import { describe, expect, it } from 'vitest';
import { expandSpecifiers, parseInstall, parseUnitFile, relativeExecs } from './unitfile.js';

describe('parseUnitFile', () => {
  it('reads sections, continuations and comments with their line numbers', () => {
    const lines = parseUnitFile('# c\n[Unit]\nDescription=x \\\n  y\n; c\n[Service]\nExecStart=/bin/a\n');
    expect(lines).toEqual([
      { section: 'Unit', key: 'Description', value: 'x    y', line: 3 },
      { section: 'Service', key: 'ExecStart', value: '/bin/a', line: 7 },
    ]);
  });
});

describe('parseInstall', () => {
  it('collects lists, and an empty assignment resets one', () => {
    const i = parseInstall('[Install]\nWantedBy=a.target b.target\nWantedBy=\nWantedBy=c.target\nRequiredBy=d.target\nAlias=x.service\nAlso=y.service\nDefaultInstance=tty1\n[Service]\nWantedBy=ignored\n');
    expect(i).toEqual({ wantedBy: ['c.target'], requiredBy: ['d.target'], upheldBy: [], alias: ['x.service'], also: ['y.service'], defaultInstance: 'tty1' });
  });
});

describe('relativeExecs', () => {
  // The same cases through `systemd-analyze verify` (systemd 252): only bin/sleep, ./sleep,
  // ../sleep, . and .. are "Neither a valid executable name nor an absolute path".
  it('finds the programs systemd refuses: relative paths, . and .., after the prefixes', () => {
    const text = [
      '[Service]',
      'ExecStart=bin/sleep 1',
      'ExecStartPre=-/bin/true',
      'ExecStartPre=+@sleep x',
      'ExecStop="/usr/bin/a b"',
      'ExecStopPost=',
      'ExecReload=%h/bin/reload',
      'ExecStartPost=sleep 10',
      'ExecStartPost=-systemctl --no-block start x.service',
      'ExecStartPost=./sleep',
      'ExecStartPost=-../sleep',
      'ExecStartPost=. x',
      'ExecStartPost=.. x',
      'ExecStartPost="bin/quoted x"',
      'ExecCondition=!!sleep 1',
      '',
    ].join('\n');
    expect(relativeExecs(text).map((r) => [r.line, r.program])).toEqual([
      [2, 'bin/sleep'],
      [10, './sleep'],
      [11, '../sleep'],
      [12, '.'],
      [13, '..'],
      [14, 'bin/quoted x'],
    ]);
  });
});

describe('expandSpecifiers', () => {
  it('expands %n %N %p %i', () => {
    expect(expandSpecifiers('%n|%N|%p|%i|%%', 'getty@tty1.service')).toBe('getty@tty1.service|getty@tty1|getty|tty1|%');
  });
});
