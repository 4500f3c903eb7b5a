/**
 * Export paths with blanks, '#', a double quote and a backslash through the real exportfs
 * (nfs-utils): reconcile's quoting is read back by exportfs as the same path, `exportfs -v` shows
 * it, and the next plan is in sync. Edits this machine's /etc/exports and reconcile's state, so
 * both are saved first and restored after.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';
import { describeNeeding } from './helpers/prereq.js';
import { parseExportfsV } from '../src/resources/exports/parse.js';

const STATE = '/var/lib/reconcile';

describeNeeding({ root: 'the kernel export table', commands: { '/usr/sbin/exportfs': 'nfs-kernel-server' } }, 'odd export paths through the real exportfs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-exports-values-'));
  const paths = ['a b', 'h#x', 'q"x', 'b\\x'].map((n) => path.join(dir, n));
  const spec = path.join(dir, 'host.yaml');
  let savedExports: string | null = null;
  const savedState = path.join(dir, 'saved-state');

  beforeAll(() => {
    savedExports = existsSync('/etc/exports') ? readFileSync('/etc/exports', 'utf8') : null;
    if (existsSync(STATE)) cpSync(STATE, savedState, { recursive: true });
    rmSync(STATE, { recursive: true, force: true });
    const entries = paths.map((p) => `  - path: ${JSON.stringify(p)}\n    directory: {mode: "0755"}\n    clients: [{host: 127.0.0.1, options: [ro, sync, no_subtree_check]}]\n`);
    writeFileSync(spec, `host: ${hostname()}\nexports:\n${entries.join('')}`);
  });

  afterAll(() => {
    if (savedExports === null) rmSync('/etc/exports', { force: true });
    else writeFileSync('/etc/exports', savedExports);
    execFileSync('exportfs', ['-ra']);
    rmSync(STATE, { recursive: true, force: true });
    if (existsSync(savedState)) renameSync(savedState, STATE);
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies, exportfs exports each path as written, and the next plan is in sync', async () => {
    expect((await runCli(['validate', '--strict', spec])).exitCode).toBe(0);
    const a = await runCli(['apply', spec, '--yes']);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    const live = parseExportfsV(execFileSync('exportfs', ['-v'], { encoding: 'utf8' }));
    for (const p of paths) expect(live.filter((e) => e.path === p && e.host === '127.0.0.1'), p).toHaveLength(1);
    const again = await runCli(['plan', spec]);
    expect(again.stdout).toContain('in sync');
    expect(again.exitCode).toBe(0);
  });
});
