import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gitInfo, parseStatus } from './git.js';
import { describeGit } from './types.js';

let dir: string;
let seq = 0;
const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { encoding: 'utf8' }).trim();
/** A fresh path each time: gitInfo answers once per file and process. */
const file = (name: string, text = 'host: a\n') => {
  const p = path.join(dir, name);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
};

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), `reconcile-git-${seq++}-`));
  git('init', '--quiet', '-b', 'main');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('gitInfo tells the truth about the spec', () => {
  it('null outside a repository and before the first commit', async () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'reconcile-nogit-'));
    try {
      writeFileSync(path.join(outside, 's.yaml'), 'host: a\n');
      expect(await gitInfo(path.join(outside, 's.yaml'))).toBeNull();
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
    expect(await gitInfo(file('hosts/early.yaml'))).toBeNull();
  });

  it('clean, modified, removed from the index, added, untracked and ignored, each as it is', async () => {
    file('.gitignore', 'local/\n*.local.yaml\n');
    const clean = file('hosts/clean.yaml');
    const modified = file('hosts/modified.yaml');
    const removed = file('hosts/removed.yaml');
    git('add', '.');
    git('commit', '--quiet', '-m', 'one');
    const head = git('rev-parse', 'HEAD');
    expect(await gitInfo(clean)).toEqual({ commit: head, dirty: false, state: 'clean' });

    appendFileSync(modified, 'timezone: UTC\n');
    expect(await gitInfo(modified)).toEqual({ commit: head, dirty: true, state: 'modified' });

    const untracked = file('other/untracked.yaml');
    expect(await gitInfo(untracked)).toEqual({ commit: head, dirty: true, state: 'untracked' });
    expect(await gitInfo(file('other/x.local.yaml'))).toEqual({ commit: head, dirty: true, state: 'ignored' });
    // Inside an ignored directory git names only the directory: the file under it is ignored too.
    expect(await gitInfo(file('local/deep/spec.yaml'))).toEqual({ commit: head, dirty: true, state: 'ignored' });
    git('rm', '--cached', '--quiet', removed);
    expect(await gitInfo(removed)).toEqual({ commit: head, dirty: true, state: 'deleted' });

    const added = file('staged/added.yaml');
    git('add', added);
    expect(await gitInfo(added)).toEqual({ commit: head, dirty: true, state: 'added' });
  });

  it('an ignored file beside a clean spec leaves it clean; an untracked one beside it makes it dirty', async () => {
    file('.gitignore', '*.plan\n');
    const spec = file('a/spec.yaml');
    git('add', '.');
    git('commit', '--quiet', '-m', 'one');
    file('a/saved.plan', '{}');
    expect((await gitInfo(spec))!.dirty).toBe(false);
    file('b/spec.yaml');
    file('b/migrations/001.sql', 'create table t();');
    git('add', 'b/spec.yaml');
    git('commit', '--quiet', '-m', 'two');
    expect(await gitInfo(path.join(dir, 'b/spec.yaml'))).toMatchObject({ dirty: true, state: 'clean' });
  });

  it('reports every source that is not in the commit, in one git process', async () => {
    file('.gitignore', 'secret/\n');
    const spec = file('hosts/web1.yaml');
    const base = file('roles/base.yaml', 'units: []\n');
    const web = file('roles/web.yaml', 'units: []\n');
    const fleet = file('fleet.yaml', 'name: prod\n');
    git('add', '.');
    git('commit', '--quiet', '-m', 'one');
    const head = git('rev-parse', 'HEAD');
    expect(await gitInfo(spec, [base, web, fleet])).toEqual({ commit: head, dirty: false, state: 'clean' });
    appendFileSync(web, '# x\n');
    const extra = file('roles/new.yaml');
    const hidden = file('secret/local.yaml');
    expect(await gitInfo(spec, [base, web, fleet, extra, hidden, spec])).toEqual({
      commit: head,
      dirty: true,
      state: 'clean',
      sources: [
        { path: 'roles/web.yaml', state: 'modified' },
        { path: 'roles/new.yaml', state: 'untracked' },
        { path: 'secret/local.yaml', state: 'ignored' },
      ],
    });
  });

  it('hostile file names: blanks, quotes, a line break, glob characters, a leading dash', async () => {
    file('.gitignore', 'ign*\n');
    const names = ['my spec.yaml', 'q"uo\'te.yaml', 'line\nbreak.yaml', '*.yaml', '[ab].yaml', '-rf.yaml', ':(top)x.yaml'];
    const specs = names.map((n) => file(`h/${n}`));
    git('add', '.gitignore');
    git('commit', '--quiet', '-m', 'one');
    for (const s of specs) expect((await gitInfo(s))?.state, s).toBe('untracked');
    git('add', '--', ...specs);
    git('commit', '--quiet', '-m', 'two');
    // The literal pathspec: `*.yaml` names that one file, not every file beside it.
    const fresh = (p: string) => gitInfo(p, [path.join(dir, '.gitignore')]);
    appendFileSync(specs[0]!, '# changed\n');
    expect((await fresh(specs[3]!))!.state).toBe('clean');
    expect((await fresh(specs[0]!))!.state).toBe('modified');
    expect((await fresh(specs[2]!))!.state).toBe('clean');
  });
});

describe('parseStatus and describeGit', () => {
  it('reads the v2 record types, a rename taking two fields', () => {
    const out = ['# branch.oid abc', '# branch.head main', '1 .M N... 100644 100644 100644 h1 h2 a b.yaml', '2 R. N... 100644 100644 100644 h1 h2 R100 new.yaml', 'old.yaml', 'u UU N... 1 2 3 4 h1 h2 h3 c.yaml', '? d.yaml', '! e/', ''].join('\0');
    expect(parseStatus(out)).toEqual({
      oid: 'abc',
      entries: [
        { path: 'a b.yaml', state: 'modified' },
        { path: 'new.yaml', state: 'modified' },
        { path: 'c.yaml', state: 'modified' },
        { path: 'd.yaml', state: 'untracked' },
        { path: 'e/', state: 'ignored' },
      ],
    });
  });
  it('says what is not in the commit', () => {
    expect(describeGit({ commit: '0123456789abcdef', dirty: false, state: 'clean' })).toBe('0123456789ab');
    expect(describeGit({ commit: '0123456789abcdef', dirty: true, state: 'modified' })).toBe('0123456789ab (dirty)');
    expect(describeGit({ commit: '0123456789abcdef', dirty: true, state: 'ignored' })).toBe('0123456789ab (spec ignored: not in the commit)');
  });
});
