/**
 * Atomic writes keep the replaced file's extended attributes (issue 12): a rename puts a new inode
 * in place, so without a copy the ACL, SELinux label and user.* attributes would be gone. Real
 * files on the temp directory's filesystem (tmpfs or ext4 here: both take user.* and ACLs).
 */
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Host } from './host.js';
import { itNeeding } from '../../test/helpers/prereq.js';

const needs = { root: 'chown of the temp file', commands: { getfattr: 'attr', setfattr: 'attr', getfacl: 'acl', setfacl: 'acl', cp: 'coreutils' } };

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'reconcile-xattr-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const attrs = (file: string) => execFileSync('getfattr', ['-d', '-m', '-', '--absolute-names', '--', file], { encoding: 'utf8' }).split('\n').slice(1).join('\n');
const acl = (file: string) => execFileSync('getfacl', ['-p', '--omit-header', '--', file], { encoding: 'utf8' });

// Names getfattr has to quote (blank, newline, backslash, '=', non-ASCII) and one that looks like an option.
const NAMES = ['plain.conf', '-rf', 'a b', 'nl\nx', 'back\\134slash', 'eq=x', 'é.conf', '#hash'];

describe('Host.writeFile keeps extended attributes', () => {
  itNeeding(needs, 'keeps user.* and the POSIX ACL of every replaced file, with the new bytes, mode and owner', async () => {
    for (const name of NAMES) {
      const file = path.join(root, name);
      writeFileSync(file, 'old\n', { mode: 0o640 });
      execFileSync('chown', ['65534:65534', '--', file]);
      execFileSync('setfattr', ['-n', 'user.origin', '-v', `hand ${name.length}`, '--', file]);
      execFileSync('setfacl', ['-m', 'u:nobody:r', '--', file]);
    }
    writeFileSync(path.join(root, 'bare.conf'), 'old\n');
    const before = new Map(NAMES.map((n) => [n, { attrs: attrs(path.join(root, n)), acl: acl(path.join(root, n)) }]));
    expect(before.get('plain.conf')!.attrs).toContain('user.origin="hand 10"');
    expect(before.get('plain.conf')!.acl).toContain('user:nobody:r--');

    const host = new Host(root);
    for (const name of [...NAMES, 'bare.conf']) expect(await host.writeFile(`/${name}`, `new ${name}\n`)).toBeUndefined();

    for (const name of NAMES) {
      const file = path.join(root, name);
      expect(readFileSync(file, 'utf8')).toBe(`new ${name}\n`);
      expect(attrs(file)).toBe(before.get(name)!.attrs);
      expect(acl(file)).toBe(before.get(name)!.acl);
      const st = statSync(file);
      expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o640, 65534, 65534]);
    }
    // A file without attributes gets none (no ACL from the copy, no stray attribute).
    expect(attrs(path.join(root, 'bare.conf'))).toBe('');
    expect(readFileSync(path.join(root, 'bare.conf'), 'utf8')).toBe('new bare.conf\n');
  });

  itNeeding(needs, 'keeps them for a file created after the directory was listed', async () => {
    const host = new Host(root);
    await host.writeFile('/first.conf', 'one\n'); // lists the directory
    const late = path.join(root, 'late.conf');
    writeFileSync(late, 'old\n');
    execFileSync('setfattr', ['-n', 'user.late', '-v', '1', '--', late]);
    await host.writeFile('/late.conf', 'new\n');
    expect(readFileSync(late, 'utf8')).toBe('new\n');
    expect(attrs(late)).toContain('user.late="1"');
  });

  itNeeding(needs, 'without getfattr (package attr) every replaced file is copied with cp, and keeps them', async () => {
    const file = path.join(root, 'exports');
    writeFileSync(file, 'old\n');
    execFileSync('setfattr', ['-n', 'user.x', '-v', '1', '--', file]);
    const bin = mkdtempSync(path.join(tmpdir(), 'reconcile-bin-'));
    symlinkSync(execFileSync('sh', ['-c', 'command -v cp'], { encoding: 'utf8' }).trim(), path.join(bin, 'cp'));
    const saved = process.env.PATH;
    process.env.PATH = bin;
    try {
      expect(await new Host(root).writeFile('/exports', 'new\n')).toBeUndefined();
    } finally {
      process.env.PATH = saved;
      rmSync(bin, { recursive: true, force: true });
    }
    expect(readFileSync(file, 'utf8')).toBe('new\n');
    expect(attrs(file)).toContain('user.x="1"');
  });

  itNeeding(needs, 'still writes, and says so, when the attributes cannot be copied (no cp, no getfattr)', async () => {
    const file = path.join(root, 'exports');
    writeFileSync(file, 'old\n');
    execFileSync('setfattr', ['-n', 'user.x', '-v', '1', '--', file]);
    const saved = process.env.PATH;
    process.env.PATH = path.join(root, 'no-such-bin');
    try {
      const warning = await new Host(root).writeFile('/exports', 'new\n');
      expect(warning).toMatch(/^extended attributes \(ACL, SELinux label, user\.\*\) of \/exports not kept: /);
    } finally {
      process.env.PATH = saved;
    }
    expect(readFileSync(file, 'utf8')).toBe('new\n');
  });
});
