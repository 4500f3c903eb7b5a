/**
 * The CLI end to end against a temporary --root, as an operator runs it: validate, plan, apply,
 * plan again, saved plans, ownership. Asserts on the files' bytes and on exit codes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync, appendFileSync, statSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO, runCli } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';
import { itNeeding } from './helpers/prereq.js';

const HAND_WRITTEN = `# /etc/exports: the access control list for filesystems which may be exported
#\t\tto NFS clients.  See exports(5).
#
# Hand-written, not managed by reconcile:
/srv/scratch    10.0.0.0/24(rw,sync,no_subtree_check)

`;
const EXPECTED_EXPORTS = `${HAND_WRITTEN}/data/share 192.168.1.157(rw,sync,all_squash,no_subtree_check) 192.168.1.0/24(ro,async,all_squash,no_subtree_check)
/srv/backup backup.example.internal(rw,sync,no_subtree_check,root_squash)
`;

let t: ReturnType<typeof tempRoot>;
beforeEach(() => {
  t = tempRoot();
});
afterEach(() => t.cleanup());

const file = (p: string) => readFileSync(path.join(t.root, p), 'utf8');
const journals = () => (existsSync(path.join(t.root, 'var/lib/reconcile/journal')) ? readdirSync(path.join(t.root, 'var/lib/reconcile/journal')) : []);

describe('reconcile against a temporary root', () => {
  it('validates, plans, applies, and then plans nothing', async () => {
    const v = await runCli(['validate', t.spec]);
    expect(v.exitCode).toBe(0);

    const p = await runCli(['plan', t.spec, '--root', t.root]);
    expect(p.stderr).toBe('');
    expect(p.exitCode).toBe(2);
    expect(p.stdout).toContain('+/data/share 192.168.1.157(rw,sync,all_squash,no_subtree_check) 192.168.1.0/24(ro,async,all_squash,no_subtree_check)');
    expect(p.stdout).toContain('-/data/share 192.168.1.157(rw,sync,no_subtree_check)');
    expect(p.stdout).toContain('~ nfsServer  update, risk restart');
    expect(p.stdout).toContain('4 changes pending');

    const a = await runCli(['apply', t.spec, '--root', t.root, '--yes']);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toContain('skipped  exportfs -ra  skipped (offline root)');
    expect(a.stdout).toContain('converged');

    // Exactly these bytes: the hand-written line and comments are untouched.
    expect(file('etc/exports')).toBe(EXPECTED_EXPORTS);
    expect(file('etc/timezone')).toBe('Asia/Shanghai\n');
    expect(readlinkSync(path.join(t.root, 'etc/localtime'))).toBe('/usr/share/zoneinfo/Asia/Shanghai');
    expect(file('etc/default/nfs-kernel-server')).toContain('\n# Options for rpc.mountd.\nRPCMOUNTDOPTS="--manage-gids --port 33333"\n');
    expect(file('etc/default/nfs-kernel-server')).toContain('RPCNFSDCOUNT=8\n');
    const share = statSync(path.join(t.root, 'data/share'));
    expect([share.mode & 0o7777, share.uid, share.gid]).toEqual([0o775, 65534, 65534]);
    expect(statSync(path.join(t.root, 'srv/backup')).mode & 0o7777).toBe(0o750);

    // The journal kept the previous bytes of /etc/exports.
    const [journal] = journals();
    const entries = readFileSync(path.join(t.root, 'var/lib/reconcile/journal', journal!, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const backup = entries.find((e) => e.event === 'backup' && e.path === '/etc/exports');
    expect(readFileSync(path.join(t.root, 'var/lib/reconcile/journal', journal!, backup.saved), 'utf8')).toBe(`${HAND_WRITTEN}/data/share 192.168.1.157(rw,sync,no_subtree_check)\n`);

    const again = await runCli(['plan', t.spec, '--root', t.root]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('in sync');

    // A second apply changes nothing and starts no journal.
    const second = await runCli(['apply', t.spec, '--root', t.root, '--yes']);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toContain('in sync');
    expect(journals()).toHaveLength(1);
    expect(file('etc/exports')).toBe(EXPECTED_EXPORTS);
  });

  it('refuses a saved plan after /etc/exports was edited by hand, naming the export', async () => {
    const planFile = path.join(t.dir, 'plan.json');
    const p = await runCli(['plan', t.spec, '--root', t.root, '--out', planFile, '--quiet']);
    expect(p.exitCode).toBe(2);
    const saved = JSON.parse(readFileSync(planFile, 'utf8'));
    expect(saved.formatVersion).toBe(2);
    expect(Object.keys(saved.digests)).toContain('exports[/data/share]');

    appendFileSync(path.join(t.root, 'etc/exports'), '/srv/late 10.1.1.1(ro)\n');
    const stale = await runCli(['apply', planFile]);
    expect(stale.exitCode).toBe(1);
    expect(stale.stderr).toMatch(/saved plan is stale.*exports\[\/data\/share\]/);
    expect(stale.stderr).not.toMatch(/^\s+at /m);
    expect(file('etc/timezone')).toBe('Etc/UTC\n'); // nothing ran

    // A fresh plan of the same host applies, and keeps the late hand edit.
    expect((await runCli(['plan', t.spec, '--root', t.root, '--out', planFile, '--quiet'])).exitCode).toBe(2);
    const ok = await runCli(['apply', planFile]);
    expect(ok.exitCode).toBe(0);
    expect(file('etc/exports')).toContain('/srv/late 10.1.1.1(ro)\n');
  });

  it('stores a step shared by many changes once in the plan file, and applies the file', async () => {
    const planFile = path.join(t.dir, 'plan.json');
    expect((await runCli(['plan', t.spec, '--root', t.root, '--out', planFile, '--quiet'])).exitCode).toBe(2);
    const saved = JSON.parse(readFileSync(planFile, 'utf8'));
    const ids = saved.steps.map((s: { id: string }) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    // Both exports changes write the one /etc/exports: one step, referenced by both.
    expect(ids.filter((id: string) => id === 'file:/etc/exports')).toHaveLength(1);
    const users = saved.changes.filter((c: { steps: string[] }) => c.steps.includes('file:/etc/exports')).map((c: { address: string }) => c.address);
    expect(users).toEqual(['exports[/data/share]', 'exports[/srv/backup]']);
    for (const c of saved.changes) for (const id of c.steps) expect(ids).toContain(id);
    // Steps in the order apply runs them: the write before the exportfs that reads it.
    expect(ids.indexOf('file:/etc/exports')).toBeLessThan(ids.indexOf('exec:exportfs -ra'));
    expect(readFileSync(planFile, 'utf8')).not.toContain('"content"');

    const bad = { ...saved, changes: [{ ...saved.changes[0], steps: ['file:/nowhere'] }] };
    writeFileSync(planFile, JSON.stringify(bad));
    const refused = await runCli(['apply', planFile]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('names step "file:/nowhere", which it does not hold');

    writeFileSync(planFile, JSON.stringify(saved));
    expect((await runCli(['apply', planFile])).exitCode).toBe(0);
    expect(file('etc/exports')).toBe(EXPECTED_EXPORTS);
  });

  it('apply --format json prints no file bytes, also when the host did not converge', async () => {
    // A hand-written fstab password; a step that fails (a directory where /etc/localtime goes)
    // so that the file writes after it are still pending in the report.
    writeFileSync(path.join(t.root, 'etc/fstab'), '# fstab\n//nas/share /mnt/nas cifs username=bob,password=hunter2 0 0\n');
    rmSync(path.join(t.root, 'etc/localtime'), { force: true });
    mkdirSync(path.join(t.root, 'etc/localtime/x'), { recursive: true });
    const spec = path.join(t.dir, 'mount.yaml');
    writeFileSync(spec, 'host: nfs1\ntimezone: Asia/Shanghai\nmounts:\n  - {path: /mnt/x, source: tmpfs, type: tmpfs, options: [size=1m]}\n');
    const r = await runCli(['apply', spec, '--root', t.root, '--yes', '--format', 'json']);
    expect(r.exitCode).toBe(1);
    // One event per line; the last says how it ended.
    const report = JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!);
    expect(report).toMatchObject({ type: 'apply_done', ok: false });
    expect(report.remaining).toContain('mounts[/mnt/x]');
    expect(r.stdout).not.toContain('hunter2');
    expect(r.stdout).not.toContain('"content"');
    expect(r.stdout).not.toContain('"steps"');
  });

  it('refuses a saved plan when the spec changed since', async () => {
    const planFile = path.join(t.dir, 'plan.json');
    await runCli(['plan', t.spec, '--root', t.root, '--out', planFile, '--quiet']);
    writeFileSync(t.spec, readFileSync(t.spec, 'utf8').replace('Asia/Shanghai', 'Europe/Berlin'));
    const r = await runCli(['apply', planFile]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('changed since the plan was made');
  });

  it('removes what it put there when an export leaves the spec, and keeps the rest', async () => {
    expect((await runCli(['apply', t.spec, '--root', t.root, '--yes'])).exitCode).toBe(0);
    writeFileSync(t.spec, readFileSync(t.spec, 'utf8').replace(/  - path: \/srv\/backup\n(    .*\n)+/, ''));
    const p = await runCli(['plan', t.spec, '--root', t.root]);
    expect(p.exitCode).toBe(2);
    expect(p.stdout).toContain('- exports[/srv/backup]  delete, risk disruptive');
    expect((await runCli(['apply', t.spec, '--root', t.root, '--yes'])).exitCode).toBe(0);
    expect(file('etc/exports')).toBe(EXPECTED_EXPORTS.replace('/srv/backup backup.example.internal(rw,sync,no_subtree_check,root_squash)\n', ''));
    expect(existsSync(path.join(t.root, 'srv/backup'))).toBe(false); // it was empty
    expect(existsSync(path.join(t.root, 'data/share'))).toBe(true);
    expect((await runCli(['plan', t.spec, '--root', t.root])).exitCode).toBe(0);
  });

  it('prints JSON and Markdown plans', async () => {
    const j = await runCli(['plan', t.spec, '--root', t.root, '--format', 'json']);
    expect(j.exitCode).toBe(2);
    const plan = JSON.parse(j.stdout);
    expect(plan.formatVersion).toBe(2);
    expect(plan.changes.map((c: { address: string }) => c.address)).toEqual(['timezone', 'exports[/data/share]', 'exports[/srv/backup]', 'nfsServer']);
    expect(plan.changes[1]).toMatchObject({ kind: 'exports', action: 'update', risk: 'reload' });

    const m = await runCli(['plan', t.spec, '--root', t.root, '--format', 'markdown']);
    expect(m.exitCode).toBe(2);
    expect(m.stdout).toContain('| resource | action | risk | summary |');
    expect(m.stdout).toContain('<details><summary><code>exports[/data/share]</code>');
    expect(m.stdout).toContain('```diff\n--- a/etc/exports');
  });

  it('doctor reports the host and reconcile state of the root as JSON', async () => {
    expect((await runCli(['apply', t.spec, '--root', t.root, '--yes'])).exitCode).toBe(0);
    const r = await runCli(['doctor', '--root', t.root, '--format', 'json', '--interval', '200ms']);
    expect([0, 2]).toContain(r.exitCode);
    const report = JSON.parse(r.stdout);
    expect(report.formatVersion).toBe(1);
    expect(report.reconcile).toMatchObject({ root: t.root, lockHolder: null, lastApply: { spec: t.spec } });
    expect(report.mounts.total).toBeGreaterThan(0);
  });

  itNeeding({ root: 'loop mounts', commands: { 'mkfs.ext4': 'e2fsprogs', losetup: 'mount' } }, 'mounts a disk and exports it: the directory is owned and moded on the mounted filesystem', async () => {
    const spec = path.join(t.dir, 'export-a-mount.yaml');
    writeFileSync(
      spec,
      `host: nfs1\nmounts:\n  - {path: /srv/nfs, source: tmpfs, type: tmpfs, options: [size=8m], state: mounted}\nexports:\n  - path: /srv/nfs\n    directory: {owner: nobody, group: nogroup, mode: "0770"}\n    clients: [{host: 10.0.0.0/24, options: [rw, sync, no_subtree_check]}]\n`,
    );
    const target = path.join(t.root, 'srv/nfs');
    try {
      const r = await runCli(['apply', spec, '--root', t.root, '--yes']);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(execFileSync('findmnt', ['-n', '-o', 'FSTYPE', target], { encoding: 'utf8' }).trim()).toBe('tmpfs');
      const st = statSync(target);
      expect([st.mode & 0o7777, st.uid]).toEqual([0o770, 65534]);
      expect((await runCli(['plan', spec, '--root', t.root])).exitCode).toBe(0);
    } finally {
      spawnSync('umount', ['-l', target], { stdio: 'ignore' });
    }
  });

  it('changes only the managed line of a foreign fstab (LABEL=My\\040Data, UUID root, an NFS line for the same mount point)', async () => {
    const foreign = readFileSync(path.join(REPO, 'src/resources/mounts/testdata/debian.fstab'), 'utf8');
    writeFileSync(path.join(t.root, 'etc/fstab'), foreign);
    const spec = path.join(t.dir, 'client.yaml');
    writeFileSync(spec, 'host: nfs1\nmounts:\n  - {path: /mnt/140share, source: "192.168.1.140:/data/share", type: nfs, options: [nfsvers=4.2, hard, _netdev], state: present}\n');
    const p = await runCli(['plan', spec, '--root', t.root]);
    expect(p.exitCode).toBe(2);
    expect(p.stdout).not.toContain('s3cret'); // the CIFS line's password, not ours to show
    const a = await runCli(['apply', spec, '--root', t.root, '--yes']);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    const after = readFileSync(path.join(t.root, 'etc/fstab'), 'utf8');
    const before = foreign.split('\n');
    const now = after.split('\n');
    expect(now).toHaveLength(before.length); // no duplicate line
    const changed = now.flatMap((l, i) => (l === before[i] ? [] : [l]));
    expect(changed).toEqual(['192.168.1.140:/data/share  /mnt/140share  nfs  nfsvers=4.2,hard,_netdev  0  0']);
    expect(after).toContain('LABEL=My\\040Data\t/srv/my\\040data\text4\tdefaults,noatime\t0\t2\n');
    expect((await runCli(['plan', spec, '--root', t.root])).exitCode).toBe(0);
  });

  it('asks for --yes when stdin is not a terminal, and changes nothing', async () => {
    const r = await runCli(['apply', t.spec, '--root', t.root]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('pass --yes');
    expect(file('etc/timezone')).toBe('Etc/UTC\n');
  });

  it('names a missing secret reference at plan time, without a stack trace', async () => {
    writeFileSync(t.spec, `${readFileSync(t.spec, 'utf8')}lock: {redis: {env: RECONCILE_TEST_UNSET_REDIS}}\n`);
    const r = await runCli(['plan', t.spec, '--root', t.root]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/nfs-server\.yaml:\d+:\d+: secret reference \{env: RECONCILE_TEST_UNSET_REDIS\}: environment variable RECONCILE_TEST_UNSET_REDIS is not set/);
  });

  itNeeding({ root: 'a read-only bind mount' }, 'stops at a failed step, says what ran and what did not, and the next apply converges', async () => {
    // A read-only bind mount over etc/default makes the write of nfs-kernel-server fail for real.
    const dir = path.join(t.root, 'etc/default');
    execFileSync('mount', ['--bind', dir, dir]);
    try {
      execFileSync('mount', ['-o', 'remount,bind,ro', dir]);
      const r = await runCli(['apply', t.spec, '--root', t.root, '--yes']);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toMatch(/FAILED {2}write \/etc\/default\/nfs-kernel-server/);
      expect(r.stdout).toMatch(/EROFS|read-only/i);
      expect(r.stdout).toContain('not run  systemctl restart nfs-kernel-server');
      expect(r.stdout).toContain('not converged');
      expect(file('etc/exports')).toBe(EXPECTED_EXPORTS); // steps before it ran
    } finally {
      execFileSync('umount', [dir]);
    }
    const next = await runCli(['apply', t.spec, '--root', t.root, '--yes']);
    expect(next.exitCode).toBe(0);
    expect(file('etc/default/nfs-kernel-server')).toContain('--port 33333');
    expect(lstatSync(path.join(t.root, 'etc/localtime')).isSymbolicLink()).toBe(true);
  });
});
