/**
 * A host fault that a spec value runs into at plan time (a user the root does not have, a zone
 * its tzdata lacks) is reported at that value's FILE:LINE:COL, exit 1, never a stack.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-positions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rootWith(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(dir, 'root-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

const ACCOUNTS = { 'etc/passwd': 'root:x:0:0::/root:/bin/sh\n', 'etc/group': 'root:x:0:\n' };

describe('plan-time errors name the spec value they come from', () => {
  it('an export directory owner the host does not have', async () => {
    const spec = path.join(dir, 'owner.yaml');
    writeFileSync(spec, 'host: h\nexports:\n  - path: /srv/x\n    directory: {owner: ghostuser}\n    clients: [{host: 10.0.0.1, options: [ro]}]\n');
    const r = await runCli(['plan', spec, '--root', rootWith(ACCOUNTS)], { env: { RECONCILE_NO_CACHE: '1' } });
    expect(r.stderr).toBe(`${spec}:4:24: exports[/srv/x]: user "ghostuser" does not exist on the host (/etc/passwd)\n`);
    expect(r.exitCode).toBe(1);
  });
  it('a mount option naming a user the host does not have', async () => {
    const spec = path.join(dir, 'uid.yaml');
    writeFileSync(spec, 'host: h\nmounts:\n  - path: /mnt/t\n    source: tmpfs\n    type: tmpfs\n    options: [uid=ghostuser]\n    state: present\n');
    const r = await runCli(['plan', spec, '--root', rootWith(ACCOUNTS)], { env: { RECONCILE_NO_CACHE: '1' } });
    expect(r.stderr).toMatch(new RegExp(`^${spec.replace(/[.]/g, '\\.')}:6:14: mounts\\[/mnt/t\\]: uid=ghostuser: no such user or group`));
    expect(r.exitCode).toBe(1);
  });
  it('a unit enabled whose packaged file has no [Install]', async () => {
    const spec = path.join(dir, 'unit.yaml');
    writeFileSync(spec, 'host: h\nunits:\n  - name: static.service\n    enabled: true\n');
    const root = rootWith({ ...ACCOUNTS, 'lib/systemd/system/static.service': '[Service]\nExecStart=/bin/true\n', 'etc/systemd/system/.keep': '' });
    const r = await runCli(['plan', spec, '--root', root], { env: { RECONCILE_NO_CACHE: '1' } });
    expect(r.stderr).toBe(`${spec}:4:14: units[static.service]: enabled: true, but /lib/systemd/system/static.service has no [Install] section (a static unit cannot be enabled)\n`);
    expect(r.exitCode).toBe(1);
  });
});
