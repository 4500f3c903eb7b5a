/**
 * `reconcile rollback` end to end against a temporary root: an apply, then its rollback puts back
 * every byte, mode and link the apply changed, says what it cannot undo, and is itself journaled.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';
import { Host } from '../src/host/host.js';
import { planRollback, readJournal, runRollback } from '../src/apply/rollback.js';
import { tempRoot } from './helpers/root.js';

let t: ReturnType<typeof tempRoot>;
beforeEach(() => {
  t = tempRoot();
});
afterEach(() => t.cleanup());

/** Every file and link under the root but reconcile's own state: path -> bytes or link target, and mode. */
function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(root, rel))) {
      const r = path.join(rel, name);
      if (r.startsWith('var/lib/reconcile')) continue;
      const st = lstatSync(path.join(root, r));
      if (st.isDirectory()) walk(r);
      else if (st.isSymbolicLink()) out.set(r, `-> ${readlinkSync(path.join(root, r))}`);
      else out.set(r, `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${readFileSync(path.join(root, r), 'utf8')}`);
    }
  };
  walk('');
  return out;
}

const journals = () => readdirSync(path.join(t.root, 'var/lib/reconcile/journal')).sort();

describe('reconcile rollback', () => {
  it('shows the rollback as a plan, then puts back every file and link the last apply changed', async () => {
    const before = snapshot(t.root);
    const a = await runCli(['apply', t.spec, '--root', t.root, '--yes']);
    expect(a.exitCode).toBe(0);
    const applied = snapshot(t.root);
    expect(applied).not.toEqual(before);
    expect(readlinkSync(path.join(t.root, 'etc/localtime'))).toContain('Asia/Shanghai');

    const plan = await runCli(['rollback', '--plan', '--root', t.root]);
    expect(plan.stderr).toBe('');
    expect(plan.exitCode).toBe(2);
    expect(plan.stdout).toContain('file[/etc/exports]');
    expect(plan.stdout).toContain('file[/etc/localtime]');
    expect(plan.stdout).toContain('-/data/share 192.168.1.157(rw,sync,all_squash,no_subtree_check)');
    // The plan changed nothing.
    expect(snapshot(t.root)).toEqual(applied);

    const r = await runCli(['rollback', '--yes', '--root', t.root]);
    expect(r.exitCode).toBe(0);
    expect(snapshot(t.root)).toEqual(before);
    // The export directories the apply made stay, and the rollback says so.
    expect(existsSync(path.join(t.root, 'data/share'))).toBe(true);
    expect(r.stdout).toMatch(/not undone: create directory \/data\/share .*: the directory stays/);

    // The rollback kept its own journal: rolling it back re-applies what the apply did.
    expect(journals()).toHaveLength(2);
    const again = await runCli(['rollback', '--plan', '--root', t.root, journals()[0]!]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('in sync');
    const undo = await runCli(['rollback', '--yes', '--root', t.root]);
    expect(undo.exitCode).toBe(0);
    expect(snapshot(t.root)).toEqual(applied);
  });

  it('puts hand-written lines back as they were before the apply, and shows a later edit it removes', async () => {
    const exportsFile = path.join(t.root, 'etc/exports');
    appendFileSync(exportsFile, '/srv/hand 10.0.0.1(rw,sec=krb5p)\n');
    const handEdited = readFileSync(exportsFile, 'utf8');
    expect((await runCli(['apply', t.spec, '--root', t.root, '--yes'])).exitCode).toBe(0);
    // An operator edits the file after the apply: the rollback plan shows their line going away.
    appendFileSync(exportsFile, '# edited after the apply\n');
    const plan = await runCli(['rollback', '--plan', '--root', t.root]);
    expect(plan.stdout).toContain('-# edited after the apply');
    const r = await runCli(['rollback', '--yes', '--root', t.root]);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(exportsFile, 'utf8')).toBe(handEdited);
  });

  it('says a kept copy with a masked password is not restored, and leaves that file alone', async () => {
    const defaults = path.join(t.root, 'etc/default/nfs-kernel-server');
    writeFileSync(defaults, `${readFileSync(defaults, 'utf8')}# opts: password=hunter2\n`);
    expect((await runCli(['apply', t.spec, '--root', t.root, '--yes'])).exitCode).toBe(0);
    const after = readFileSync(defaults, 'utf8');
    const plan = await runCli(['rollback', '--plan', '--root', t.root]);
    expect(plan.stdout).toContain('not undone: /etc/default/nfs-kernel-server: its kept copy had a password masked');
    expect(plan.stdout).not.toContain('hunter2');
    expect(plan.stdout).not.toContain('file[/etc/default/nfs-kernel-server]');
    expect((await runCli(['rollback', '--yes', '--root', t.root])).exitCode).toBe(0);
    expect(readFileSync(defaults, 'utf8')).toBe(after);
  });

  it('refuses to overwrite a file edited between the rollback plan and its step', async () => {
    expect((await runCli(['apply', t.spec, '--root', t.root, '--yes'])).exitCode).toBe(0);
    const host = new Host(t.root);
    const journal = await readJournal(host);
    const plan = await planRollback(host, journal);
    const exportsFile = path.join(t.root, 'etc/exports');
    appendFileSync(exportsFile, '# written while the operator read the plan\n');
    const edited = readFileSync(exportsFile, 'utf8');
    const report = await runRollback(host, journal, plan);
    expect(report.ok).toBe(false);
    expect(report.results.find((r) => r.id === 'file:/etc/exports')).toMatchObject({ status: 'failed', error: expect.stringContaining('changed since it was observed') });
    expect(readFileSync(exportsFile, 'utf8')).toBe(edited);
  });

  it('finds a journal by name only inside the journal directory', async () => {
    expect((await runCli(['apply', t.spec, '--root', t.root, '--yes'])).exitCode).toBe(0);
    for (const hostile of ['../../../etc', '/etc/passwd', '..', '.', '', 'x\ny']) {
      const r = await runCli(['rollback', '--plan', '--root', t.root, hostile]);
      expect(r.exitCode, hostile).toBe(1);
      expect(r.stderr, hostile).toMatch(/no journal/);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    }
    const list = await runCli(['rollback', '--list', '--root', t.root]);
    expect(list.stdout.trim().split('\n')).toEqual(journals());
  });

  it('says there is nothing to roll back on a host reconcile never applied to', async () => {
    const r = await runCli(['rollback', '--root', t.root]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('no apply journal');
  });
});
