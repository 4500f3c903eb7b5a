/**
 * A host file of a fleet is its merged spec for every command (DESIGN §8.2, last bullet), and every
 * file it was made from counts: the plan records each source, `apply PLANFILE` refuses a plan whose
 * fragment changed (naming it), git "dirty" covers a fragment outside the host file's directory,
 * the journal lists the sources, and a diagnostic raised at plan time points at the fragment.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { runCli } from './helpers/cli.js';
import { mergedSpecDigest } from '../src/fleet/context.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, stdio: 'pipe' });

/** A fleet repository (committed) and an empty root for web1. */
function repo(): { dir: string; root: string; tmp: string } {
  const tmp = mkdtempSync(path.join(tmpdir(), 'reconcile-fsrc-sources-'));
  dirs.push(tmp);
  const dir = path.join(tmp, 'repo');
  const files: Record<string, string> = {
    'fleet.yaml': 'name: t\nhosts:\n  web1: {address: 10.0.0.1/24, groups: [web]}\n  nfs1: {address: 10.0.0.2/24}\ngroups:\n  web: {include: [roles/base.yaml]}\n',
    'roles/base.yaml': 'timezone: Etc/UTC\n',
    'roles/share.yaml': '# shared by the web hosts\nmounts:\n  - {path: /mnt/share, source: {fleet: nfs1, path: /data/share}, type: nfs, options: [nfsvers=3], state: unmounted}\n',
    'hosts/web1.yaml': 'host: web1\ninclude: [roles/share.yaml]\n',
    'hosts/nfs1.yaml': 'host: nfs1\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  git(dir, 'init', '-q');
  git(dir, 'add', '.');
  git(dir, 'commit', '-qm', 'fleet');
  const root = path.join(tmp, 'root');
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  return { dir, root, tmp };
}

const env = { RECONCILE_NO_CACHE: '1' };

describe('a host file of a fleet: every source counts', () => {
  it('the plan records every source, the inventory digest and the merged digest; a clean tree is not dirty', async () => {
    const { dir, root } = repo();
    const r = await runCli(['plan', 'hosts/web1.yaml', '--root', root, '--format', 'json'], { cwd: dir, env });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(2);
    const plan = JSON.parse(r.stdout);
    const file = (rel: string) => readFileSync(path.join(dir, rel), 'utf8');
    expect(plan.spec.sources).toEqual(['roles/base.yaml', 'roles/share.yaml', 'hosts/web1.yaml'].map((p) => ({ path: p, sha256: sha(file(p)) })));
    expect(plan.spec.fleet).toMatch(/^[0-9a-f]{64}$/);
    expect(plan.spec.git).toMatchObject({ dirty: false });
    // The merged spec's digest, as `reconcile spec` shows the merged value.
    const merged = JSON.parse((await runCli(['spec', 'hosts/web1.yaml', '--format', 'json'], { cwd: dir })).stdout).spec;
    expect(merged.mounts[0].source).toBe('10.0.0.2:/data/share');
    expect(plan.spec.sha256).toBe(mergedSpecDigest(merged));
    expect(plan.changes.map((c: { address: string }) => c.address).sort()).toEqual(['mounts[/mnt/share]', 'timezone']);

    // The inventory counts too: another address for nfs1 is another merged spec and another fleet digest.
    writeFileSync(path.join(dir, 'fleet.yaml'), file('fleet.yaml').replace('10.0.0.2/24', '10.0.0.3/24'));
    const again = JSON.parse((await runCli(['plan', 'hosts/web1.yaml', '--root', root, '--format', 'json'], { cwd: dir, env })).stdout);
    expect(again.spec.fleet).not.toBe(plan.spec.fleet);
    expect(again.spec.sha256).not.toBe(plan.spec.sha256);
    expect(again.spec.git.dirty).toBe(true);
  });

  it('a fragment edited after plan --out: apply PLANFILE refuses, naming the fragment; git dirty is true', async () => {
    const { dir, root, tmp } = repo();
    const planFile = path.join(tmp, 'web1.plan.json');
    const p = await runCli(['plan', 'hosts/web1.yaml', '--root', root, '--out', planFile], { cwd: dir, env });
    expect(p.exitCode).toBe(2);
    // Only a comment: the merged spec is the same, the file is not.
    appendFileSync(path.join(dir, 'roles/share.yaml'), '# edited after the plan\n');
    const a = await runCli(['apply', planFile, '--yes'], { cwd: dir, env });
    expect(a.stderr).toBe('the saved plan is stale: roles/share.yaml changed since the plan was made; plan again\n');
    expect(a.exitCode).toBe(1);
    expect(readdirSync(path.join(root, 'etc'))).toEqual([]); // nothing was applied

    const dirty = JSON.parse((await runCli(['plan', 'hosts/web1.yaml', '--root', root, '--format', 'json'], { cwd: dir, env })).stdout);
    expect(dirty.spec.git.dirty).toBe(true);
    // Which one, and how: the host file is in the commit as it is, the fragment is not.
    expect(dirty.spec.git).toMatchObject({ state: 'clean', sources: [{ path: 'roles/share.yaml', state: 'modified' }] });
    // The host file's own directory is clean: only the fragment made it dirty.
    expect(git(dir, 'status', '--porcelain', '--', 'hosts').toString()).toBe('');
  });

  it('apply of a host file applies the merged spec, and the journal lists the sources', async () => {
    const { dir, root } = repo();
    const a = await runCli(['apply', 'hosts/web1.yaml', '--root', root, '--yes'], { cwd: dir, env });
    expect(a.exitCode).toBe(0);
    expect(readFileSync(path.join(root, 'etc/fstab'), 'utf8')).toContain('10.0.0.2:/data/share\t/mnt/share\tnfs\tnfsvers=3');
    expect(readFileSync(path.join(root, 'etc/timezone'), 'utf8')).toBe('Etc/UTC\n');
    const journals = (readdirSync(path.join(root, 'var/lib/reconcile/journal'), { recursive: true }) as string[]).filter((f) => f.endsWith('journal.jsonl'));
    expect(journals).toHaveLength(1);
    const first = JSON.parse(readFileSync(path.join(root, 'var/lib/reconcile/journal', journals[0]!), 'utf8').split('\n')[0]!);
    expect(first.spec.sources.map((s: { path: string }) => s.path)).toEqual(['roles/base.yaml', 'roles/share.yaml', 'hosts/web1.yaml']);
    expect(first.spec.fleet).toMatch(/^[0-9a-f]{64}$/);
  });

  it('drift and a second plan of the applied host file see it in sync', async () => {
    const { dir, root } = repo();
    expect((await runCli(['apply', 'hosts/web1.yaml', '--root', root, '--yes'], { cwd: dir, env })).exitCode).toBe(0);
    const plan = await runCli(['plan', 'hosts/web1.yaml', '--root', root], { cwd: dir, env });
    expect(plan.stdout).toMatch(/^web1: in sync/m);
    expect(plan.exitCode).toBe(0);
    const drift = await runCli(['drift', 'hosts/web1.yaml', '--root', root], { cwd: dir, env });
    expect(drift.exitCode).toBe(0);
  });

  it('a secret reference that cannot be read is reported at the fragment that holds it', async () => {
    const { dir, root } = repo();
    writeFileSync(
      path.join(dir, 'roles/share.yaml'),
      'mounts:\n  - path: /mnt/f\n    source: //10.0.0.9/f\n    type: cifs\n    credentials: {username: u, password: {env: FSRC_UNSET_PASSWORD}}\n    state: mounted\n',
    );
    const r = await runCli(['plan', 'hosts/web1.yaml', '--root', root], { cwd: dir, env });
    expect(r.stderr).toBe('roles/share.yaml:5:42: secret reference {env: FSRC_UNSET_PASSWORD}: environment variable FSRC_UNSET_PASSWORD is not set\n');
    expect(r.exitCode).toBe(1);
  });

  it('a spec outside any fleet plans as before: no sources, its own text digest', async () => {
    const { tmp, root } = repo();
    const spec = path.join(tmp, 'plain.yaml');
    writeFileSync(spec, 'host: web1\ntimezone: Etc/UTC\n');
    const plan = JSON.parse((await runCli(['plan', spec, '--root', root, '--format', 'json'], { env })).stdout);
    expect(plan.spec).toEqual({ path: spec, sha256: sha('host: web1\ntimezone: Etc/UTC\n'), git: null });
  });
});
