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
  it('finds programs that are not absolute paths, after the prefixes', () => {
    const text = '[Service]\nExecStart=bin/sleep 1\nExecStartPre=-/bin/true\nExecStartPre=+@sleep x\nExecStop="/usr/bin/a b"\nExecStopPost=\nExecReload=%h/bin/reload\n';
    expect(relativeExecs(text)).toEqual([
      { line: 2, key: 'ExecStart', program: 'bin/sleep' },
      { line: 4, key: 'ExecStartPre', program: 'sleep' },
    ]);
  });
});

describe('expandSpecifiers', () => {
  it('expands %n %N %p %i', () => {
    expect(expandSpecifiers('%n|%N|%p|%i|%%', 'getty@tty1.service')).toBe('getty@tty1.service|getty@tty1|getty|tty1|%');
  });
});
