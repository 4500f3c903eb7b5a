import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Host } from './host.js';
import { assertHas } from '../../test/helpers/prereq.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'reconcile-host-'));
  mkdirSync(path.join(root, 'etc'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('Host files under a root', () => {
  it('replaces a file atomically, keeping its mode and owner, and hands the old bytes to the backup hook', async () => {
    const file = path.join(root, 'etc/exports');
    writeFileSync(file, 'old\n');
    chmodSync(file, 0o640);
    const asRoot = assertHas({ root: 'chown to another owner' });
    if (asRoot) chownSync(file, 65534, 65534);
    const host = new Host(root);
    const backups: [string, string | null][] = [];
    host.backup = async (p, previous) => void backups.push([p, previous?.toString() ?? null]);
    await host.writeFile('/etc/exports', 'new\n');
    expect(readFileSync(file, 'utf8')).toBe('new\n');
    const st = statSync(file);
    expect(st.mode & 0o7777).toBe(0o640);
    if (asRoot) expect([st.uid, st.gid]).toEqual([65534, 65534]);
    expect(backups).toEqual([['/etc/exports', 'old\n']]);
    expect(readdirSync(path.join(root, 'etc'))).toEqual(['exports']); // no temp file left
  });

  it('never leaves the root: paths are host paths, resolved under it', () => {
    const host = new Host(root);
    expect(host.resolve('/etc/../etc/fstab')).toBe(path.join(root, 'etc/fstab'));
    expect(host.resolve('/../../etc/passwd')).toBe(path.join(root, 'etc/passwd'));
    expect(() => host.resolve('etc/fstab')).toThrow(/absolute/);
  });

  it('replaces a symlink atomically and reads missing files as null', async () => {
    const host = new Host(root);
    await host.symlink('/etc/localtime', '/usr/share/zoneinfo/Etc/UTC');
    await host.symlink('/etc/localtime', '/usr/share/zoneinfo/Asia/Shanghai');
    expect(readlinkSync(path.join(root, 'etc/localtime'))).toBe('/usr/share/zoneinfo/Asia/Shanghai');
    expect(lstatSync(path.join(root, 'etc/localtime')).isSymbolicLink()).toBe(true);
    expect(await host.read('/etc/missing')).toBeNull();
    expect(await host.lstat('/etc/missing')).toBeNull();
  });

  it('removes a directory only when empty', async () => {
    const host = new Host(root);
    await host.ensureDir('/srv/a', { mode: 0o750 });
    expect(statSync(path.join(root, 'srv/a')).mode & 0o7777).toBe(0o750);
    writeFileSync(path.join(root, 'srv/a/keep'), 'x');
    expect(await host.removeDirIfEmpty('/srv/a')).toBe(false);
    rmSync(path.join(root, 'srv/a/keep'));
    expect(await host.removeDirIfEmpty('/srv/a')).toBe(true);
  });
});
