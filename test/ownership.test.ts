/**
 * Ownership (DESIGN.md §5) through the CLI against a temporary --root: reconcile removes, when an
 * address leaves the spec, only what it created; what an operator wrote and reconcile only edited
 * stays as it is. Ownership survives an apply killed with SIGKILL. Credentials files leave with
 * their mount. Asserts on the files' bytes and on state.json.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BIN, REPO, runCli } from './helpers/cli.js';
import { umountAll } from './helpers/mounts.js';
import { describeNeeding, itNeeding } from './helpers/prereq.js';

const isRoot = process.getuid?.() === 0;

const HAND_UNIT = '[Unit]\nDescription=hand\n[Service]\nExecStart=/bin/sleep 1\n[Install]\nWantedBy=multi-user.target\n';
const HAND_FSTAB = '# mine\ntmpfs /mnt/hand tmpfs size=8m 0 0\n';
const HAND_EXPORTS = '# mine\n/srv/hand 10.0.0.1(ro,sync,no_subtree_check)\n';

let dir: string;
let root: string;
let spec: string;
const real = (p: string) => path.join(root, p);
const read = (p: string) => readFileSync(real(p), 'utf8');
const state = () => JSON.parse(read('var/lib/reconcile/state.json')) as { formatVersion: number; owned: Record<string, { kind: string; created: string[]; pending?: true }> };

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'reconcile-ownership-'));
  root = path.join(dir, 'root');
  spec = path.join(dir, 'host.yaml');
  mkdirSync(real('etc/systemd/system/multi-user.target.wants'), { recursive: true });
  mkdirSync(real('etc/default'), { recursive: true });
  mkdirSync(real('srv/hand'), { recursive: true }); // empty: an rmdir-if-empty would take it
  writeFileSync(real('etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
  writeFileSync(real('etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  writeFileSync(real('etc/fstab'), HAND_FSTAB);
  writeFileSync(real('etc/exports'), HAND_EXPORTS);
  writeFileSync(real('etc/default/nfs-kernel-server'), 'RPCMOUNTDOPTS="--manage-gids --port 4000"\n');
  writeFileSync(real('etc/systemd/system/hand.service'), HAND_UNIT);
  symlinkSync('/etc/systemd/system/hand.service', real('etc/systemd/system/multi-user.target.wants/hand.service'));
});
afterEach(() => {
  if (isRoot) umountAll(root);
  rmSync(dir, { recursive: true, force: true });
});

const unit = (name: string, text: string) => `  - name: ${name}\n    enabled: true\n    content: |\n${text.replace(/^/gm, '      ').trimEnd()}\n`;

function writeSpec(parts: { hand?: boolean; made?: boolean; handAbsent?: boolean }): void {
  let s = 'host: h1\n';
  const mounts: string[] = [];
  const exports: string[] = [];
  const units: string[] = [];
  if (parts.hand) {
    mounts.push('  - {path: /mnt/hand, source: tmpfs, type: tmpfs, options: [size=16m], state: present}\n');
    exports.push('  - {path: /srv/hand, clients: [{host: 10.0.0.2, options: [rw, sync, no_subtree_check]}]}\n');
    units.push(unit('hand.service', HAND_UNIT.replace('sleep 1', 'sleep 2')));
    s += 'nfsServer: {mountdPort: 5000}\n';
  }
  if (parts.handAbsent) {
    mounts.push('  - {path: /mnt/hand, source: tmpfs, type: tmpfs, state: absent}\n');
    exports.push('  - {path: /srv/hand, clients: [{host: 10.0.0.2}], state: absent}\n');
  }
  if (parts.made) {
    mounts.push('  - {path: /mnt/made, source: tmpfs, type: tmpfs, options: [size=4m], state: present}\n');
    exports.push('  - {path: /srv/made, clients: [{host: 10.0.0.3, options: [ro, sync, no_subtree_check]}]}\n');
    units.push(unit('made.service', HAND_UNIT.replace('hand', 'made')));
  }
  if (mounts.length) s += `mounts:\n${mounts.join('')}`;
  if (exports.length) s += `exports:\n${exports.join('')}`;
  if (units.length) s += `units:\n${units.join('')}`;
  writeFileSync(spec, s);
}

async function apply(): Promise<void> {
  const r = await runCli(['apply', spec, '--root', root, '--yes']);
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
}

describe('ownership: leaving the spec removes only what reconcile created', () => {
  it('keeps the fstab line, export line and directory, unit file and enable link, and mountd pin it only edited', async () => {
    writeSpec({ hand: true, made: true });
    await apply();
    expect(read('etc/fstab')).toContain('tmpfs /mnt/hand tmpfs size=16m 0 0\n');
    expect(read('etc/exports')).toContain('/srv/hand 10.0.0.2(rw,sync,no_subtree_check)\n');
    const owned = state().owned;
    expect(state().formatVersion).toBe(2);
    expect(owned['mounts[/mnt/hand]']).toEqual({ kind: 'mounts', created: [] });
    expect(owned['mounts[/mnt/made]']).toEqual({ kind: 'mounts', created: ['fstab line'] });
    expect(owned['exports[/srv/hand]']).toEqual({ kind: 'exports', created: [] });
    expect(owned['exports[/srv/made]']).toEqual({ kind: 'exports', created: ['directory', 'line'] });
    expect(owned['units[hand.service]']).toEqual({ kind: 'units', created: [] });
    expect(owned['units[made.service]']).toEqual({ kind: 'units', created: ['/etc/systemd/system/made.service'] });
    expect(owned['nfsServer']).toEqual({ kind: 'nfsServer', created: [] });
    const edited = { fstab: read('etc/fstab'), exports: read('etc/exports'), unit: read('etc/systemd/system/hand.service'), nfs: read('etc/default/nfs-kernel-server') };
    expect(edited.nfs).toBe('RPCMOUNTDOPTS="--manage-gids --port 5000"\n');

    // Everything leaves the spec: the plan names only what reconcile made.
    writeSpec({});
    const p = await runCli(['plan', spec, '--root', root, '--format', 'json']);
    expect(p.exitCode).toBe(2);
    expect(JSON.parse(p.stdout).changes.map((c: { address: string; action: string }) => `${c.address} ${c.action}`).sort()).toEqual([
      'exports[/srv/made] delete',
      'mounts[/mnt/made] delete',
      'units[made.service] delete',
    ]);
    await apply();
    expect(read('etc/fstab')).toBe(edited.fstab.replace('tmpfs\t/mnt/made\ttmpfs\tsize=4m\t0\t0\n', ''));
    expect(read('etc/fstab')).toContain('/mnt/hand');
    expect(read('etc/exports')).toBe(edited.exports.replace('/srv/made 10.0.0.3(ro,sync,no_subtree_check)\n', ''));
    expect(existsSync(real('srv/hand'))).toBe(true);
    expect(existsSync(real('srv/made'))).toBe(false);
    expect(read('etc/systemd/system/hand.service')).toBe(edited.unit);
    expect(readlinkSync(real('etc/systemd/system/multi-user.target.wants/hand.service'))).toBe('/etc/systemd/system/hand.service');
    expect(existsSync(real('etc/systemd/system/made.service'))).toBe(false);
    expect(existsSync(real('etc/systemd/system/multi-user.target.wants/made.service'))).toBe(false);
    expect(read('etc/default/nfs-kernel-server')).toBe(edited.nfs);
    expect(state().owned).toEqual({});
    expect((await runCli(['plan', spec, '--root', root])).exitCode).toBe(0);

    // state: absent removes them whoever wrote them.
    writeSpec({ handAbsent: true });
    await apply();
    expect(read('etc/fstab')).toBe('# mine\n');
    expect(read('etc/exports')).toBe('# mine\n');
  });

  it('a state file of format 1 (every edited address) is read as edited only: nothing of it is removed', async () => {
    mkdirSync(real('var/lib/reconcile'), { recursive: true });
    writeFileSync(real('var/lib/reconcile/state.json'), JSON.stringify({ formatVersion: 1, owned: { 'mounts[/mnt/hand]': 'mounts', 'exports[/srv/hand]': 'exports' } }));
    writeSpec({});
    const p = await runCli(['plan', spec, '--root', root]);
    expect(p.stderr).toBe('');
    expect(p.exitCode).toBe(0);
  });

  itNeeding({ root: 'a real tmpfs mount' }, 'removing a created fstab line of a mounted filesystem unmounts it: risk disruptive, not none', async () => {
    writeFileSync(spec, 'host: h1\nmounts:\n  - {path: /mnt/made, source: tmpfs, type: tmpfs, options: [size=4m]}\n');
    await apply();
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain(real('mnt/made'));
    writeFileSync(spec, 'host: h1\n');
    const p = await runCli(['plan', spec, '--root', root, '--format', 'json']);
    expect(JSON.parse(p.stdout).changes.map((c: { address: string; risk: string }) => [c.address, c.risk])).toEqual([['mounts[/mnt/made]', 'disruptive']]);
    await apply();
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(real('mnt/made'));
    expect(read('etc/fstab')).toBe(HAND_FSTAB);
  });
});

describe('credentials files leave with their mount', () => {
  const cifs = (state: string) =>
    `host: h1\nmounts:\n  - {path: /mnt/f, source: //192.168.1.107/f, type: cifs, options: [iocharset=utf8], state: ${state}, credentials: {username: share, password: {env: TEST_CIFS_PASSWORD}}}\n`;
  const cred = () => real('etc/reconcile/credentials/mnt-f');
  const env = { TEST_CIFS_PASSWORD: 'hunter2' };

  it('state: absent removes the credentials file reconcile wrote, and the journal never holds it', async () => {
    writeFileSync(spec, cifs('present'));
    expect((await runCli(['apply', spec, '--root', root, '--yes'], { env })).exitCode).toBe(0);
    expect(readFileSync(cred(), 'utf8')).toBe('username=share\npassword=hunter2\n');
    writeFileSync(spec, cifs('absent'));
    const p = await runCli(['plan', spec, '--root', root], { env });
    expect(p.exitCode).toBe(2);
    expect(p.stdout).toContain('remove credentials file');
    expect(p.stdout).not.toContain('hunter2');
    const a = await runCli(['apply', spec, '--root', root, '--yes'], { env });
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    expect(existsSync(cred())).toBe(false);
    expect(read('etc/fstab')).toBe(HAND_FSTAB);
    const journals = path.join(root, 'var/lib/reconcile/journal');
    const all = (d: string): string[] => (lstatSync(d).isDirectory() ? readdirSync(d).flatMap((e) => all(path.join(d, e))) : [readFileSync(d, 'utf8')]);
    expect(all(journals).join('\n')).not.toContain('hunter2');
    expect((await runCli(['plan', spec, '--root', root], { env })).exitCode).toBe(0);
  });

  it('a created cifs mount that leaves the spec takes its credentials file along', async () => {
    writeFileSync(spec, cifs('present'));
    expect((await runCli(['apply', spec, '--root', root, '--yes'], { env })).exitCode).toBe(0);
    writeFileSync(spec, 'host: h1\n');
    await apply();
    expect(existsSync(cred())).toBe(false);
    expect(read('etc/fstab')).toBe(HAND_FSTAB);
  });
});

describeNeeding({ root: 'real mounts' }, 'ownership survives an apply killed with SIGKILL', () => {
  it('the intent written before the steps is confirmed by the next apply, and leaving the spec then removes it', async () => {
    // A `mount` on PATH that really mounts, then blocks: the CLI is killed while its last step runs.
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    const marker = path.join(dir, 'mounting');
    writeFileSync(path.join(bin, 'mount'), `#!/bin/sh\n/usr/bin/mount "$@" || exit 1\necho $$ > ${marker}.tmp && mv ${marker}.tmp ${marker}\nexec sleep 600\n`);
    chmodSync(path.join(bin, 'mount'), 0o755);
    writeFileSync(spec, 'host: h1\nmounts:\n  - {path: /mnt/made, source: tmpfs, type: tmpfs, options: [size=4m]}\n');

    const child = spawn(process.execPath, [BIN, 'apply', spec, '--root', root, '--yes'], { cwd: REPO, env: { ...process.env, NO_COLOR: '1', PATH: `${bin}:${process.env.PATH}` }, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    for (let i = 0; i < 300 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(marker)).toBe(true);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    process.kill(Number(readFileSync(marker, 'utf8')), 'SIGKILL'); // the blocked fake mount

    // Killed mid-step: the line and the mount are there, the intent is on record.
    expect(read('etc/fstab')).toContain('/mnt/made');
    expect(state().owned['mounts[/mnt/made]']).toEqual({ kind: 'mounts', created: ['fstab line'], pending: true });

    // The next apply finds everything in place and confirms the intent.
    const again = await runCli(['apply', spec, '--root', root, '--yes']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('in sync');
    expect(state().owned['mounts[/mnt/made]']).toEqual({ kind: 'mounts', created: ['fstab line'] });

    // Leaving the spec removes what the killed apply made.
    writeFileSync(spec, 'host: h1\n');
    await apply();
    expect(read('etc/fstab')).toBe(HAND_FSTAB);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(real('mnt/made'));
  });
});
