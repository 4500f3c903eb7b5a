/**
 * The units kind under --root, against the real `systemctl --root=DIR`: the enablement symlinks
 * reconcile computes from [Install] are exactly the ones systemctl creates (and removes) for the
 * same units, in a copy of the same tree. systemctl works offline with --root even though systemd
 * is not PID 1 on this machine.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync, existsSync, lstatSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';

const X = `[Unit]
Description=x
[Service]
ExecStart=/bin/sleep infinity
[Install]
WantedBy=multi-user.target graphical.target
RequiredBy=foo.target
Alias=x-alias.service
Also=y.service
`;
const VENDOR: Record<string, string> = {
  'y.service': '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=timers.target\n',
  'v.service': '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\nAlias=v2.service\n',
  'tty@.service': '[Service]\nExecStart=/bin/true %i\n[Install]\nWantedBy=getty.target\nDefaultInstance=tty1\n',
  'static.service': '[Service]\nExecStart=/bin/true\n',
};
const NAMES = ['x.service', 'v.service', 'tty@tty3.service', 'tty@.service'];

function spec(enabled: boolean): string {
  const content = X.replace(/^/gm, '      ').trimEnd();
  return `host: offline-root
units:
  - name: x.service
    content: |
${content}
    enabled: ${enabled}
    state: running
  - {name: v.service, enabled: ${enabled}}
  - {name: tty@tty3.service, enabled: ${enabled}}
  - {name: tty@.service, enabled: ${enabled}}
`;
}

/** Every symlink under etc/systemd/system: relative path -> target. */
function links(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isSymbolicLink()) out[path.relative(root, p)] = readlinkSync(p);
      else if (e.isDirectory()) walk(p);
    }
  };
  walk(path.join(root, 'etc/systemd/system'));
  return out;
}

let dir: string;
let ours: string;
let theirs: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'reconcile-units-'));
  ours = path.join(dir, 'ours');
  theirs = path.join(dir, 'theirs');
  for (const [name, text] of Object.entries(VENDOR)) {
    mkdirSync(path.join(ours, 'lib/systemd/system'), { recursive: true });
    writeFileSync(path.join(ours, 'lib/systemd/system', name), text);
  }
  mkdirSync(path.join(ours, 'etc/systemd/system'), { recursive: true });
  cpSync(ours, theirs, { recursive: true, verbatimSymlinks: true });
  writeFileSync(path.join(theirs, 'etc/systemd/system/x.service'), X);
  writeFileSync(path.join(dir, 'on.yaml'), spec(true));
  writeFileSync(path.join(dir, 'off.yaml'), spec(false));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const systemctl = (root: string, verb: string) => execFileSync('systemctl', [`--root=${root}`, verb, ...NAMES], { stdio: 'pipe' });

describe('units under --root', () => {
  it('writes the unit file and the same enablement symlinks as systemctl --root enable; disable removes the same ones', async () => {
    systemctl(theirs, 'enable');
    const a = await runCli(['apply', path.join(dir, 'on.yaml'), '--root', ours, '--yes']);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toContain('skipped (offline root)'); // daemon-reload and start
    expect(links(ours)).toEqual(links(theirs));
    expect(Object.keys(links(ours)).length).toBeGreaterThanOrEqual(7);
    expect(execFileSync('systemctl', [`--root=${ours}`, 'is-enabled', ...NAMES.slice(0, 3)], { encoding: 'utf8' }).trim().split('\n')).toEqual(['enabled', 'enabled', 'enabled']);
    expect((await runCli(['plan', path.join(dir, 'on.yaml'), '--root', ours])).exitCode).toBe(0);

    systemctl(theirs, 'disable');
    const d = await runCli(['apply', path.join(dir, 'off.yaml'), '--root', ours, '--yes']);
    expect(d.stderr).toBe('');
    expect(d.exitCode).toBe(0);
    expect(links(ours)).toEqual(links(theirs));
    expect(links(ours)).toEqual({});
    expect(existsSync(path.join(ours, 'etc/systemd/system/x.service'))).toBe(true);
    expect((await runCli(['plan', path.join(dir, 'off.yaml'), '--root', ours])).exitCode).toBe(0);
  });

  it('a unit that leaves the spec loses its file and links', async () => {
    expect((await runCli(['apply', path.join(dir, 'on.yaml'), '--root', ours, '--yes'])).exitCode).toBe(0);
    writeFileSync(path.join(dir, 'gone.yaml'), 'host: offline-root\nunits:\n  - {name: v.service, enabled: true}\n');
    const r = await runCli(['apply', path.join(dir, 'gone.yaml'), '--root', ours, '--yes']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('remove /etc/systemd/system/x.service');
    expect(existsSync(path.join(ours, 'etc/systemd/system/x.service'))).toBe(false);
    // x's links (and its Also= y's) are gone; v stays enabled. The tty@ units had no file of
    // reconcile's, so their enablement (which may predate reconcile) is left as it is.
    expect(Object.keys(links(ours)).sort()).toEqual([
      'etc/systemd/system/getty.target.wants/tty@tty1.service',
      'etc/systemd/system/getty.target.wants/tty@tty3.service',
      'etc/systemd/system/multi-user.target.wants/v.service',
      'etc/systemd/system/v2.service',
    ]);
    expect(lstatSync(path.join(ours, 'etc/systemd/system/v2.service')).isSymbolicLink()).toBe(true);
  });

  it('masks by linking to /dev/null, as systemctl --root mask does', async () => {
    execFileSync('systemctl', [`--root=${theirs}`, 'mask', 'v.service'], { stdio: 'pipe' });
    writeFileSync(path.join(dir, 'mask.yaml'), 'host: offline-root\nunits:\n  - {name: v.service, masked: true}\n');
    const r = await runCli(['apply', path.join(dir, 'mask.yaml'), '--root', ours, '--yes']);
    expect(r.exitCode).toBe(0);
    expect(links(ours)).toEqual(links(theirs));
  });
});
