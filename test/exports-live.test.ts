/**
 * The exports kind on the live host with the real exportfs (nfs-kernel-server's; it fills the
 * kernel's export table here without an NFS server running). It edits this machine's
 * /etc/exports and reconcile's state, so both are saved first and restored after.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';
import { describeNeeding } from './helpers/prereq.js';

const STATE = '/var/lib/reconcile';

describeNeeding({ root: 'the kernel export table', commands: { '/usr/sbin/exportfs': 'nfs-kernel-server' } }, 'exports on the live host (real exportfs)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-exports-live-'));
  const share = path.join(dir, 'share');
  const spec = path.join(dir, 'host.yaml');
  let savedExports: string | null = null;
  const savedState = path.join(dir, 'saved-state');

  beforeAll(() => {
    savedExports = existsSync('/etc/exports') ? readFileSync('/etc/exports', 'utf8') : null;
    if (existsSync(STATE)) cpSync(STATE, savedState, { recursive: true });
    rmSync(STATE, { recursive: true, force: true });
    writeFileSync('/etc/exports', `${savedExports ?? ''}# hand-written line kept by reconcile:\n${dir} 10.9.9.9(ro,sync,no_subtree_check)\n`);
    writeFileSync(
      spec,
      `host: ${hostname()}\nexports:\n  - path: ${share}\n    directory: {owner: nobody, group: nogroup, mode: "0755"}\n    clients:\n      - {host: 127.0.0.1, options: [rw, sync, no_subtree_check]}\n      - {host: "*", options: [ro, sync, no_subtree_check, all_squash]}\n`,
    );
  });

  afterAll(() => {
    if (savedExports === null) rmSync('/etc/exports', { force: true });
    else writeFileSync('/etc/exports', savedExports);
    execFileSync('exportfs', ['-ra']);
    rmSync(STATE, { recursive: true, force: true });
    if (existsSync(savedState)) renameSync(savedState, STATE);
    rmSync(dir, { recursive: true, force: true });
  });

  const liveTable = () => execFileSync('exportfs', ['-v'], { encoding: 'utf8' });

  it('applies with exportfs -ra, shows in exportfs -v, then plans nothing', async () => {
    const p = await runCli(['plan', spec]);
    expect(p.exitCode).toBe(2);
    const a = await runCli(['apply', spec, '--yes']);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toMatch(/done {2}exportfs -ra/);
    expect(liveTable()).toMatch(new RegExp(`${share}\\s+127\\.0\\.0\\.1\\([^)]*\\brw\\b`));
    expect(liveTable()).toMatch(new RegExp(`${share}\\s+<world>\\([^)]*\\bro\\b[^)]*all_squash`));
    expect(readFileSync('/etc/exports', 'utf8')).toContain(`# hand-written line kept by reconcile:\n${dir} 10.9.9.9(ro,sync,no_subtree_check)\n`);
    expect((await runCli(['plan', spec])).exitCode).toBe(0);
  });

  it('sees an export taken out of the kernel table by hand and re-exports it', async () => {
    execFileSync('exportfs', ['-u', `127.0.0.1:${share}`]);
    const p = await runCli(['plan', spec]);
    expect(p.exitCode).toBe(2);
    expect(p.stdout).toContain(`> exports[${share}]  run, risk reload`);
    expect((await runCli(['apply', spec, '--yes'])).exitCode).toBe(0);
    expect(liveTable()).toMatch(new RegExp(`${share}\\s+127\\.0\\.0\\.1\\(`));
  });

  it('a bad option reaches exportfs only through validation: it is refused with its position', async () => {
    writeFileSync(path.join(dir, 'bad.yaml'), readFileSync(spec, 'utf8').replace('all_squash', 'al_squash'));
    const r = await runCli(['plan', path.join(dir, 'bad.yaml')]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/bad\.yaml:7:\d+: .*unknown export option "al_squash"/);
  });
});
