/**
 * `reconcile pull` from a local bare repository into a temporary --root: plan, apply at the ref,
 * fast-forward only, --allow-rewind.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli, REPO } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';

let t: ReturnType<typeof tempRoot>;
let bare: string;
let work: string;
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-C', cwd, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' }).trim();
const EXAMPLE = readFileSync(path.join(REPO, 'examples/nfs-server.yaml'), 'utf8');

beforeEach(() => {
  t = tempRoot();
  bare = path.join(t.dir, 'specs.git');
  work = path.join(t.dir, 'work');
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  mkdirSync(path.join(work, 'hosts'));
  writeFileSync(path.join(work, 'hosts/nfs1.yaml'), EXAMPLE);
  git(work, 'add', '.');
  git(work, 'commit', '-qm', 'nfs1');
  git(work, 'remote', 'add', 'origin', bare);
  git(work, 'push', '-q', 'origin', 'main');
});
afterEach(() => t.cleanup());

const pull = (...extra: string[]) => runCli(['pull', bare, '--root', t.root, '--host', 'nfs1', ...extra]);
const state = () => JSON.parse(readFileSync(path.join(t.root, 'var/lib/reconcile/pull-state.json'), 'utf8'));

describe('reconcile pull', () => {
  it('plans, then applies the spec at the ref and records the commit', async () => {
    const first = git(work, 'rev-parse', 'HEAD');
    const p = await pull('--format', 'json');
    expect(p.exitCode).toBe(2);
    const plan = JSON.parse(p.stdout);
    expect(plan.spec.git).toEqual({ commit: first, dirty: false, state: 'clean' });
    expect(readdirSync(path.join(t.root, 'var/lib/reconcile/pull'))).toHaveLength(1);

    const a = await pull('--apply');
    expect(a.stderr).toContain(`main at ${first.slice(0, 12)}: hosts/nfs1.yaml`);
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toContain('converged');
    expect(readFileSync(path.join(t.root, 'etc/timezone'), 'utf8')).toBe('Asia/Shanghai\n');
    expect(state()).toMatchObject({ commit: first, ref: 'main', path: 'hosts/nfs1.yaml' });
    // The journal of that apply carries the commit too.
    const [journal] = readdirSync(path.join(t.root, 'var/lib/reconcile/journal'));
    const start = JSON.parse(readFileSync(path.join(t.root, 'var/lib/reconcile/journal', journal!, 'journal.jsonl'), 'utf8').split('\n')[0]!);
    expect(start.spec.git).toEqual({ commit: first, dirty: false, state: 'clean' });

    // A fast-forward is taken.
    writeFileSync(path.join(work, 'hosts/nfs1.yaml'), EXAMPLE.replace('timezone: Asia/Shanghai', 'timezone: Europe/Berlin'));
    git(work, 'commit', '-qam', 'berlin');
    git(work, 'push', '-q', 'origin', 'main');
    const second = git(work, 'rev-parse', 'HEAD');
    const ff = await pull('--apply');
    expect(ff.exitCode).toBe(0);
    expect(readFileSync(path.join(t.root, 'etc/timezone'), 'utf8')).toBe('Europe/Berlin\n');
    expect(state().commit).toBe(second);
  });

  it('refuses a force-pushed rewound ref unless --allow-rewind', async () => {
    const first = git(work, 'rev-parse', 'HEAD');
    writeFileSync(path.join(work, 'hosts/nfs1.yaml'), EXAMPLE.replace('timezone: Asia/Shanghai', 'timezone: Europe/Berlin'));
    git(work, 'commit', '-qam', 'berlin');
    git(work, 'push', '-q', 'origin', 'main');
    const second = git(work, 'rev-parse', 'HEAD');
    expect((await pull('--apply')).exitCode).toBe(0);
    expect(state().commit).toBe(second);

    git(work, 'reset', '-q', '--hard', first);
    git(work, 'push', '-q', '--force', 'origin', 'main');
    const refused = await pull('--apply');
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr.trim().split('\n').pop()).toBe(
      `reconcile pull: refusing: main (${first.slice(0, 12)}) is not a fast-forward of the last applied commit ${second.slice(0, 12)} (applied ${state().appliedAt}); pass --allow-rewind to accept it`,
    );
    expect(readFileSync(path.join(t.root, 'etc/timezone'), 'utf8')).toBe('Europe/Berlin\n');
    expect(state().commit).toBe(second);

    const rewound = await pull('--apply', '--allow-rewind');
    expect(rewound.exitCode).toBe(0);
    expect(rewound.stderr).toContain('accepted with --allow-rewind');
    expect(readFileSync(path.join(t.root, 'etc/timezone'), 'utf8')).toBe('Asia/Shanghai\n');
    expect(state().commit).toBe(first);
  });

  it('says which spec paths it tried, and refuses an unknown ref', async () => {
    const none = await runCli(['pull', bare, '--root', t.root, '--host', 'db9.example.com']);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain('no spec for host "db9.example.com" in the repository (tried hosts/db9.example.com.yaml, hosts/db9.yaml');
    const ref = await pull('--ref', 'nope');
    expect(ref.exitCode).toBe(1);
    expect(ref.stderr.trim()).toMatch(/^reconcile pull: nope is not a branch, tag or commit of /);
    expect((await runCli(['pull'])).exitCode).toBe(1);
  });
});
