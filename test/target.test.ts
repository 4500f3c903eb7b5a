/** --target on plan and apply through the built CLI, against temporary roots: bytes of files, state, exit codes. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';

let t: ReturnType<typeof tempRoot>;
beforeEach(() => {
  t = tempRoot();
});
afterEach(() => t.cleanup());

const exportsFile = () => readFileSync(path.join(t.root, 'etc/exports'), 'utf8');

describe('--target', () => {
  it('plans and applies one export of two in the same file: only its line is written, the other stays pending', async () => {
    const before = exportsFile();
    const p = await runCli(['plan', t.spec, '--root', t.root, '--target', 'exports[/srv/backup]']);
    expect(p.exitCode).toBe(2);
    expect(p.stdout).toContain('--target exports[/srv/backup]: the plan is partial: 1 of 4 changes; the rest stay pending');
    expect(p.stdout).toContain('+/srv/backup backup.example.internal(rw,sync,no_subtree_check,root_squash)');
    expect(p.stdout).not.toContain('all_squash');
    expect(p.stdout).toContain('1 to create, 0 to update, 0 to delete, 0 to run; worst risk: reload');

    const a = await runCli(['apply', t.spec, '--root', t.root, '--target', 'exports[/srv/backup]', '--yes']);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    expect(exportsFile()).toBe(`${before}/srv/backup backup.example.internal(rw,sync,no_subtree_check,root_squash)\n`);
    const state = JSON.parse(readFileSync(path.join(t.root, 'var/lib/reconcile/state.json'), 'utf8'));
    expect(Object.keys(state.owned)).toContain('exports[/srv/backup]');
    expect(Object.keys(state.owned)).not.toContain('exports[/data/share]');
    // The rest is still pending, and a full apply then converges.
    const rest = await runCli(['plan', t.spec, '--root', t.root]);
    expect(rest.stdout).toContain('0 to create, 3 to update, 0 to delete, 0 to run; worst risk: restart');
    expect((await runCli(['apply', t.spec, '--root', t.root, '--yes'])).exitCode).toBe(0);
  });

  it('targets one mount of two: the one diff of fstab and the bytes written hold its line only', async () => {
    mkdirSync(path.join(t.root, 'etc'), { recursive: true });
    writeFileSync(path.join(t.root, 'etc/fstab'), '/dev/vda1 / ext4 defaults 0 1\n');
    const spec = path.join(t.dir, 'two-mounts.yaml');
    writeFileSync(spec, 'host: web1\nmounts:\n  - {path: /mnt/a, source: tmpfs, type: tmpfs, options: [size=1m], state: present}\n  - {path: /mnt/b, source: tmpfs, type: tmpfs, options: [size=2m], state: present}\n');
    const p = await runCli(['plan', spec, '--root', t.root, '--target', 'mounts[/mnt/b]', '--format', 'json']);
    const plan = JSON.parse(p.stdout);
    expect(plan.targets).toEqual(['mounts[/mnt/b]']);
    expect(plan.changes.map((c: { address: string }) => c.address)).toEqual(['mounts[/mnt/b]']);
    expect(plan.files[0].diff).toBe('--- a/etc/fstab\n+++ b/etc/fstab\n@@ -1,1 +1,2 @@\n /dev/vda1 / ext4 defaults 0 1\n+tmpfs\t/mnt/b\ttmpfs\tsize=2m\t0\t0\n');
    expect((await runCli(['apply', spec, '--root', t.root, '--target', 'mounts[/mnt/b]', '--yes'])).exitCode).toBe(0);
    expect(readFileSync(path.join(t.root, 'etc/fstab'), 'utf8')).toBe('/dev/vda1 / ext4 defaults 0 1\ntmpfs\t/mnt/b\ttmpfs\tsize=2m\t0\t0\n');
  });

  it('a saved plan keeps its targets; apply of it refuses another --target', async () => {
    const file = path.join(t.dir, 'backup.plan');
    await runCli(['plan', t.spec, '--root', t.root, '--target', 'exports[/srv/backup]', '--out', file]);
    const other = await runCli(['apply', file, '--target', 'nfsServer', '--yes']);
    expect(other.exitCode).toBe(1);
    expect(other.stderr).toContain('is a saved plan: it keeps the targets it was made with (exports[/srv/backup])');
    const a = await runCli(['apply', file, '--yes']);
    expect(a.exitCode).toBe(0);
    expect(exportsFile()).toContain('/srv/backup backup.example.internal');
    expect(exportsFile()).toContain('/data/share 192.168.1.157(rw,sync,no_subtree_check)\n');
  });

  it('an unknown address is an error with did-you-mean, on plan and apply, and changes nothing', async () => {
    const before = exportsFile();
    for (const command of ['plan', 'apply']) {
      const r = await runCli([command, t.spec, '--root', t.root, '--target', 'exports[/srv/bakup]', ...(command === 'apply' ? ['--yes'] : [])]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toBe('--target exports[/srv/bakup]: no such resource in this plan (did you mean exports[/srv/backup]?); addresses are as the plan prints them, e.g. units[kafka.service], mounts[/mnt/x]\n');
    }
    expect(exportsFile()).toBe(before);
  });
});
