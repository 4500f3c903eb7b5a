/** What an fstab line, a mount option and a CIFS credentials file can hold, against hostile values. */
import { describe, expect, it } from 'vitest';
import { HOSTILE_VALUES } from '../../../test/helpers/hostile.js';
import { editFstab, entryFor, fstabFieldProblem, parseFstab, renderEntry, unquoteTag } from './fstab.js';
import { liveOptionDrift, mountOptionProblem } from './options.js';
import { credentialsContent, credentialsValueProblem } from './credentials.js';

const entry = (source: string, path = '/mnt/x', options = ['defaults']) => ({ source, path, type: 'tmpfs', options, dump: 0, pass: 0 });

describe('fstab fields', () => {
  for (const [name, value] of Object.entries(HOSTILE_VALUES)) {
    it(`${name}: refused, or written as one line that reads back the same`, () => {
      const problem = fstabFieldProblem(value);
      if (problem) {
        expect(problem).toMatch(/an fstab field holds printable characters/);
        // Refused for a reason: empty, too long, or a character no device, path or server holds.
        expect(value === '' || Buffer.byteLength(value) > 4095 || /[\x00-\x08\x0a-\x1f\x7f]/.test(value)).toBe(true);
        return;
      }
      for (const e of [entry(value), entry('tmpfs', `/mnt/${value}`)]) {
        const text = editFstab(parseFstab('# kept\n'), new Map([[e.path, e]]));
        expect(text.split('\n')).toHaveLength(3);
        const back = entryFor(parseFstab(text), e.path.replace(/\/+$/, ''));
        expect(back).toMatchObject({ source: e.source, path: e.path, type: 'tmpfs', options: ['defaults'], dump: 0, pass: 0 });
      }
    });
  }

  it('a source starting with # is escaped, so the line is no comment (libmount decodes \\043)', () => {
    expect(renderEntry(entry('#a'))).toBe('\\043a\t/mnt/x\ttmpfs\tdefaults\t0\t0');
  });

  it('refuses NUL and control characters, and says so without printing them', () => {
    expect(fstabFieldProblem('a\0b')).toBe('holds the control character U+0000; an fstab field holds printable characters and blanks (written as \\040 and \\011), at most 4095 bytes');
    expect(fstabFieldProblem('a\rb')).toMatch(/^holds a line break \(U\+000D\)/);
  });
});

describe('a managed fstab line keeps what follows its sixth field', () => {
  const text = '# mine\ntmpfs  /mnt/x  tmpfs  size=8m  0  0   # scratch, see TICKET-12\n/dev/a /y ext4 defaults 0 2 #kept too\n';

  it('byte for byte, with its separator, when the line is updated', () => {
    const out = editFstab(parseFstab(text), new Map([['/mnt/x', entry('tmpfs', '/mnt/x', ['size=16m'])]]));
    expect(out).toBe('# mine\ntmpfs  /mnt/x  tmpfs  size=16m  0  0   # scratch, see TICKET-12\n/dev/a /y ext4 defaults 0 2 #kept too\n');
  });

  it('writes dump and pass before a kept comment, so libmount does not read it as them', () => {
    const out = renderEntry({ source: 'tmpfs', path: '/mnt/x', type: 'tmpfs', options: ['size=1m'] }, 'tmpfs /mnt/x tmpfs size=8m 0 0 # note');
    expect(out).toBe('tmpfs /mnt/x tmpfs size=1m 0 0 # note');
  });

  it('keeps a CRLF line ending', () => {
    expect(renderEntry(entry('tmpfs', '/mnt/x', ['size=1m']), 'tmpfs /mnt/x tmpfs size=8m 0 0\r')).toBe('tmpfs /mnt/x tmpfs size=1m 0 0\r');
  });
});

describe('quoted tags (fstab(5))', () => {
  it('UUID="…" and LABEL="…" name the same filesystem as the unquoted tag', () => {
    expect(unquoteTag('UUID="2f0c-11"')).toBe('UUID=2f0c-11');
    expect(unquoteTag('LABEL="data"')).toBe('LABEL=data');
    expect(unquoteTag('PARTUUID="x"')).toBe('PARTUUID=x');
    expect(unquoteTag('/dev/"odd"')).toBe('/dev/"odd"');
    expect(unquoteTag('UUID="unbalanced')).toBe('UUID="unbalanced');
  });
});

describe('mount options', () => {
  for (const [name, value] of Object.entries(HOSTILE_VALUES)) {
    it(`${name}: refused unless it is one printable option without comma or double quote`, () => {
      const problem = mountOptionProblem(value);
      expect(problem === null).toBe(value !== '' && !/[\x00-\x20\x7f,"]/.test(value));
      if (problem) expect(problem).toMatch(/a mount option is printable characters/);
    });
  }
});

describe('CIFS credentials file', () => {
  for (const [name, value] of Object.entries(HOSTILE_VALUES)) {
    it(`${name}: refused, or one line that reads back as the username`, () => {
      const problem = credentialsValueProblem('username', value);
      if (problem) {
        expect(value === '' || Buffer.byteLength(value) > 256 || /[\x00-\x1f\x7f]/.test(value)).toBe(true);
        return;
      }
      const lines = credentialsContent({ username: value, password: 'pw' }).split('\n');
      expect(lines).toEqual([`username=${value}`, 'password=pw', '']);
    });
  }

  it('a password with a line break is refused without quoting it', () => {
    const problem = credentialsValueProblem('password', 'hunter2\ndomain=evil')!;
    expect(problem).toMatch(/^holds a line break/);
    expect(problem).not.toContain('hunter2');
  });
});

describe("the kernel's option defaults per filesystem type", () => {
  const shown = (fsType: string, superOptions: string[]) => ({ fsType, mountOptions: ['rw', 'relatime'], superOptions: ['rw', ...superOptions] });

  it('are in sync when the kernel hides them, and only for their own type', () => {
    expect(liveOptionDrift(['mode=1777', 'uid=0', 'gid=0', 'size=50%'], shown('tmpfs', ['inode64']))).toEqual({ missing: [], clear: [] });
    expect(liveOptionDrift(['mode=01777'], shown('tmpfs', []))).toEqual({ missing: [], clear: [] });
    expect(liveOptionDrift(['mode=1777'], shown('ext4', []))).toEqual({ missing: ['mode=1777'], clear: [] });
    expect(liveOptionDrift(['data=ordered', 'commit=5', 'barrier'], shown('ext4', []))).toEqual({ missing: [], clear: [] });
  });

  it('a value other than the default is still drift', () => {
    expect(liveOptionDrift(['mode=0755'], shown('tmpfs', []))).toEqual({ missing: ['mode=0755'], clear: [] });
    expect(liveOptionDrift(['size=25%'], shown('tmpfs', []))).toEqual({ missing: ['size=25%'], clear: [] });
    expect(liveOptionDrift(['commit=30'], shown('ext4', []))).toEqual({ missing: ['commit=30'], clear: [] });
    expect(liveOptionDrift(['mode=1777'], shown('tmpfs', ['mode=755']))).toEqual({ missing: ['mode=1777'], clear: [] });
  });
});
