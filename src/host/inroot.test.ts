/**
 * Every file access under a root resolves its path inside the root, as openat2(RESOLVE_IN_ROOT)
 * would: hostile and odd links in a root image never lead a read or a write outside it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Host } from './host.js';
import { Journal } from '../apply/journal.js';
import { writeState } from '../apply/state.js';
import { mountArgv } from '../resources/mounts/steps.js';

let base: string;
let root: string;
let outside: string;
beforeEach(() => {
  base = mkdtempSync(path.join(tmpdir(), 'reconcile-inroot-'));
  root = path.join(base, 'root');
  outside = path.join(base, 'outside');
  mkdirSync(root);
  mkdirSync(path.join(outside, 'etc'), { recursive: true });
  writeFileSync(path.join(outside, 'etc/fstab'), 'outside fstab\n');
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

/** Every file under `outside`, with its bytes: what must not change. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = `${statSync(p).mode.toString(8)} ${readFileSync(p, 'utf8')}`;
    }
    out[`${path.relative(dir, d)}/`] = statSync(d).mode.toString(8);
  };
  walk(dir);
  return out;
}

describe('paths under a root resolve inside it', () => {
  it('takes an absolute link from the root: /etc -> /OUTSIDE/etc is the root image\'s own OUTSIDE/etc', async () => {
    symlinkSync(path.join(outside, 'etc'), path.join(root, 'etc'));
    const before = snapshot(outside);
    let host = new Host(root);
    expect(await host.read('/etc/fstab')).toBeNull(); // not the outside's bytes
    // Until the image has its own OUTSIDE/etc the link dangles, and nothing is written through it.
    await expect(host.writeFile('/etc/fstab', 'inside\n')).rejects.toThrow(/which does not exist; not creating it/);
    mkdirSync(path.join(root, outside, 'etc'), { recursive: true });
    host = new Host(root); // a Host is one run: it keeps what it resolved
    await host.writeFile('/etc/fstab', 'inside\n', { mode: 0o600 });
    await host.ensureDir('/etc/sub', { mode: 0o700 });
    await host.symlink('/etc/localtime', '/usr/share/zoneinfo/UTC');
    const inside = path.join(root, outside, 'etc');
    expect(readFileSync(path.join(inside, 'fstab'), 'utf8')).toBe('inside\n');
    expect(statSync(path.join(inside, 'sub')).mode & 0o7777).toBe(0o700);
    expect(lstatSync(path.join(inside, 'localtime')).isSymbolicLink()).toBe(true);
    expect(await host.readText('/etc/fstab')).toBe('inside\n');
    expect((await host.list('/etc'))?.map((e) => e.name).sort()).toEqual(['fstab', 'localtime', 'sub']);
    expect(snapshot(outside)).toEqual(before);
  });

  it('refuses a relative link that climbs out (../../outside), naming the link and its target', async () => {
    symlinkSync('../outside/etc', path.join(root, 'etc'));
    const before = snapshot(outside);
    const host = new Host(root);
    const named = /\/etc under the root .* is a symlink to \.\.\/outside\/etc, which leads out of the root/;
    await expect(host.read('/etc/fstab')).rejects.toThrow(named);
    await expect(host.writeFile('/etc/fstab', 'x\n')).rejects.toThrow(named);
    await expect(host.ensureDir('/etc/sub', { mode: 0o777 })).rejects.toThrow(named);
    await expect(host.symlink('/etc/localtime', '/x')).rejects.toThrow(named);
    await expect(host.removeFile('/etc/fstab')).rejects.toThrow(named);
    await expect(host.fileFacts('/etc/fstab')).rejects.toThrow(named);
    await expect(host.list('/etc')).rejects.toThrow(named);
    expect(snapshot(outside)).toEqual(before);
  });

  it('refuses a link deeper down whose .. climbs above the root, and a link to a file outside', async () => {
    mkdirSync(path.join(root, 'etc/a'), { recursive: true });
    symlinkSync('../../../outside/etc/fstab', path.join(root, 'etc/a/fstab'));
    const host = new Host(root);
    await expect(host.read('/etc/a/fstab')).rejects.toThrow(/\/etc\/a\/fstab under the root .* leads out of the root/);
    // A link inside that stays inside is followed: /etc/b -> a (relative), /etc/c -> /etc/a (absolute).
    symlinkSync('a', path.join(root, 'etc/b'));
    symlinkSync('/etc/a', path.join(root, 'etc/c'));
    writeFileSync(path.join(root, 'etc/a/ok'), 'ok\n');
    expect(await host.readText('/etc/b/ok')).toBe('ok\n');
    expect(await host.readText('/etc/c/../a/ok')).toBe('ok\n');
    expect(readFileSync(path.join(outside, 'etc/fstab'), 'utf8')).toBe('outside fstab\n');
  });

  it('keeps the journal and the state file in the root when /var/lib/reconcile is a link', async () => {
    mkdirSync(path.join(root, 'var/lib'), { recursive: true });
    symlinkSync('../../../outside', path.join(root, 'var/lib/reconcile'));
    const before = snapshot(outside);
    const host = new Host(root);
    await expect(Journal.open(host, {})).rejects.toThrow(/\/var\/lib\/reconcile under the root .* leads out of the root/);
    await expect(writeState(host, { formatVersion: 2, owned: {} })).rejects.toThrow(/\/var\/lib\/reconcile under the root/);
    expect(snapshot(outside)).toEqual(before);

    // An absolute one is the root's own /outside: journal and state land there, inside.
    rmSync(path.join(root, 'var/lib/reconcile'));
    symlinkSync(outside, path.join(root, 'var/lib/reconcile'));
    mkdirSync(path.join(root, outside), { recursive: true });
    const next = new Host(root); // a Host is one run: it keeps what it resolved
    const journal = await Journal.open(next, {});
    await journal.close();
    await writeState(next, { formatVersion: 2, owned: {} });
    expect(journal.dir.startsWith(path.join(root, outside, 'journal') + '/')).toBe(true);
    expect(existsSync(path.join(root, outside, 'state.json'))).toBe(true);
    expect(snapshot(outside)).toEqual(before);
  });

  it('reads through a dangling link as missing and refuses to write through it', async () => {
    symlinkSync('/nowhere/etc', path.join(root, 'etc'));
    const host = new Host(root);
    expect(await host.read('/etc/fstab')).toBeNull();
    expect(await host.list('/etc')).toBeNull();
    await expect(host.writeFile('/etc/fstab', 'x\n')).rejects.toThrow(/\/etc under the root .* is a symlink to \/nowhere\/etc, which does not exist/);
    await expect(host.ensureDir('/etc/x')).rejects.toThrow(/\/etc under the root .* which does not exist/);
    expect(existsSync(path.join(root, 'nowhere'))).toBe(false);
    expect(existsSync('/nowhere')).toBe(false);
  });

  it('stops at a link loop with an error naming it', async () => {
    mkdirSync(path.join(root, 'etc'));
    symlinkSync('b', path.join(root, 'etc/a'));
    symlinkSync('a', path.join(root, 'etc/b'));
    const host = new Host(root);
    await expect(host.read('/etc/a/x')).rejects.toThrow(/\/etc\/[ab] under the root .*too many levels of symbolic links/);
    await expect(host.writeFile('/etc/a/x', 'x')).rejects.toThrow(/a link loop/);
  });

  it('refuses a mount target whose path leads out of the root, or through a link at all', async () => {
    symlinkSync('../outside', path.join(root, 'mnt'));
    symlinkSync('/srv', path.join(root, 'data'));
    mkdirSync(path.join(root, 'srv/x'), { recursive: true });
    const host = new Host(root);
    const d = { path: '/mnt/x', source: 'tmpfs', type: 'tmpfs', options: [] } as unknown as Parameters<typeof mountArgv>[1];
    await expect(mountArgv(host, d)).rejects.toThrow(/\/mnt under the root .* leads out of the root/);
    await expect(mountArgv(host, { ...d, path: '/data/x' })).rejects.toThrow(/\/data\/x has a symlink on its path under the root; it leads to .*\/srv\/x/);
    expect(await mountArgv(host, { ...d, path: '/srv/x' })).toEqual(['mount', '-t', 'tmpfs', '-o', 'defaults', '--', 'tmpfs', path.join(root, 'srv/x')]);
    // A bind source and a credentials file are resolved inside the root too.
    await expect(mountArgv(host, { ...d, path: '/srv/x', source: '/mnt/secret', type: 'none', options: ['bind'] })).rejects.toThrow(/leads out of the root/);
    await expect(mountArgv(host, { ...d, path: '/srv/x', source: '//s/share', type: 'cifs', options: ['credentials=/mnt/creds'] })).rejects.toThrow(/leads out of the root/);
  });

  it('changes nothing on the live host: paths are used as they are', async () => {
    const host = new Host('/');
    expect(await host.realPath('/etc/../etc/hostname')).toBe('/etc/hostname');
    expect(await host.realPath('/proc/self/root/etc', { follow: true })).toBe('/proc/self/root/etc');
  });
});

describe('the unrooted view (live state --root does not relocate)', () => {
  it('reads the machine\'s own paths, not the root\'s', async () => {
    writeFileSync(path.join(outside, 'etc/x'), 'machine\n');
    mkdirSync(path.join(root, outside, 'etc'), { recursive: true });
    writeFileSync(path.join(root, outside, 'etc/x'), 'root\n');
    const host = new Host(root);
    expect(await host.readText(`${outside}/etc/x`)).toBe('root\n');
    expect(await host.unrooted().readText(`${outside}/etc/x`)).toBe('machine\n');
    expect(host.unrooted().offline).toBe(true); // live-only actions still skipped
  });
});

describe('the path a Host finds without waiting (a directory it resolved already)', () => {
  it('is the path realPath finds, for every odd path under a root with links, or none at all', async () => {
    mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
    mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
    symlinkSync('usr/lib', path.join(root, 'lib'));
    symlinkSync('/usr/lib', path.join(root, 'lib64'));
    symlinkSync(outside, path.join(root, 'absolute')); // taken from the root: root/<outside>
    symlinkSync('../outside', path.join(root, 'escape')); // climbs above the root: refused
    writeFileSync(path.join(root, 'etc/hosts'), 'x\n');
    const host = new Host(root);
    const now = (p: string) => (host as unknown as { realPathNow(p: string): string | undefined }).realPathNow(p);
    const paths = ['/etc/hosts', '/etc/systemd/system/a.service', '/lib/x', '/lib64/x', '/usr/lib/x', '/etc//hosts', '/etc/./hosts', '/etc/../etc/hosts', '/etc/', '/', '/etc/.hidden', '/etc/..x', '/absolute/etc/fstab', '/escape/etc/fstab', 'etc/hosts', '/nothing/x'];
    // Resolve every directory first, the way a plan's first read of each does.
    for (const p of paths) await host.read(p).catch(() => undefined);
    for (const p of paths) {
      const fast = now(p);
      if (fast === undefined) continue;
      expect(fast, p).toBe(await host.realPath(p));
    }
    // The common paths are found without waiting; the odd ones go the long way (or are refused there).
    expect(now('/etc/hosts')).toBe(path.join(root, 'etc/hosts'));
    expect(now('/lib/x')).toBe(path.join(root, 'usr/lib/x'));
    expect(now('/lib64/x')).toBe(path.join(root, 'usr/lib/x'));
    expect(now('/absolute/etc/fstab')).toBe(path.join(root, outside, 'etc/fstab'));
    await expect(host.read('/escape/etc/fstab')).rejects.toThrow(/leads out of the root/);
    for (const odd of ['/etc//hosts', '/etc/./hosts', '/etc/../etc/hosts', '/etc/', '/', 'etc/hosts', '/escape/etc/fstab']) expect(now(odd), odd).toBeUndefined();
  });
});
