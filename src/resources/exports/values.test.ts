/** What an exports(5) line can hold, against hostile values. */
import { describe, expect, it } from 'vitest';
import { HOSTILE_VALUES } from '../../../test/helpers/hostile.js';
import { exportClientProblem, exportOptionProblem, exportPathProblem, parseExports, renderEntry } from './parse.js';

const reparse = (e: Parameters<typeof renderEntry>[0]) => parseExports(`# kept\n${renderEntry(e)}\n/other 10.0.0.1(ro)\n`).map((l) => l.entry ?? null);

describe('export paths', () => {
  for (const [name, value] of Object.entries(HOSTILE_VALUES)) {
    const path = `/srv/${value}`;
    it(`${name}: refused, or quoted so the line reads back the same`, () => {
      if (exportPathProblem(path)) {
        expect(/[\0\n\r]/.test(path) || Buffer.byteLength(path) > 1024).toBe(true);
        return;
      }
      const e = { path, defaults: [], clients: [{ host: '*', options: ['ro'] }] };
      expect(reparse(e)).toEqual([null, e, { path: '/other', defaults: [], clients: [{ host: '10.0.0.1', options: ['ro'] }] }]);
    });
  }

  it('a path longer than nfs-utils reads (exportfs drops the line silently) is refused', () => {
    expect(exportPathProblem(`/${'d'.repeat(1023)}`)).toBeNull();
    expect(exportPathProblem(`/${'d'.repeat(1024)}`)).toMatch(/^is 1025 bytes long; an export path holds/);
  });
});

describe('export clients', () => {
  for (const [name, value] of Object.entries(HOSTILE_VALUES)) {
    it(`${name}: refused, or one client that reads back the same`, () => {
      if (exportClientProblem(value)) return;
      const e = { path: '/srv', defaults: [], clients: [{ host: value, options: ['ro'] }, { host: '*', options: ['root_squash'] }] };
      expect(reparse(e)[1]).toEqual(e);
    });
  }

  it('a leading "-" would be the line defaults for every client: refused', () => {
    expect(exportClientProblem('-no_root_squash')).toMatch(/^starts with "-" \(exportfs would read it as options for every client/);
    // What it would do, read by the parser exportfs follows:
    expect(parseExports('/srv -no_root_squash *(ro)\n')[0]!.entry!.defaults).toEqual(['no_root_squash']);
  });

  it('refuses octal escapes, which exportfs decodes in hosts (10.9.9.6\\0567 is 10.9.9.6.7)', () => {
    expect(exportClientProblem('10.9.9.6\\0567')).toMatch(/^holds a backslash/);
  });

  it('keeps the real client forms', () => {
    for (const host of ['*', '192.168.1.157', '10.0.0.0/8', '*.example.com', 'host?.lan', '@trusted', 'gss/krb5i', '2001:db8::/32', 'fe80::1%eth0']) {
      expect(exportClientProblem(host)).toBeNull();
    }
  });
});

describe('export options', () => {
  for (const [name, value] of Object.entries(HOSTILE_VALUES)) {
    it(`${name} as an option value: refused, or one option that reads back the same`, () => {
      const option = `sec=${value}`;
      if (exportOptionProblem(option)) return;
      const e = { path: '/srv', defaults: [], clients: [{ host: '*', options: [option, 'ro'] }] };
      expect(reparse(e)[1]).toEqual(e);
    });
  }
});
