import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { exec } from '../host/exec.js';
import { UserError } from '../errors.js';

/** The git reads review makes: argv only, never a prompt. */
export async function git(cwd: string, args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}) {
  return exec(['git', '-C', cwd, ...args], { timeoutMs: options.timeoutMs ?? 30_000, env: { GIT_TERMINAL_PROMPT: '0', ...options.env } });
}

export async function resolveBase(cwd: string, ref: string): Promise<string> {
  const r = await git(cwd, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]);
  if (!r.ok) throw new UserError(`reconcile review: ${ref} is not a commit in the repository at ${cwd}${r.stderr.trim() ? ` (${r.stderr.trim().split('\n')[0]})` : ''}`);
  return r.stdout.trim();
}

export async function repositoryTop(cwd: string): Promise<string> {
  const r = await git(cwd, ['rev-parse', '--show-toplevel']);
  if (!r.ok) throw new UserError(`reconcile review: ${cwd} is not inside a git repository (${r.stderr.trim().split('\n')[0] ?? ''})`);
  return realpathSync(r.stdout.trim());
}

/**
 * The whole tree of `commit` written to a new temporary directory, in two processes whatever the
 * number of files: `read-tree` into a private index file, then `checkout-index` of all of it. The
 * repository's own index, worktrees and refs are not touched (a read-only clone works).
 */
export async function checkoutTree(top: string, commit: string): Promise<{ dir: string; remove: () => void }> {
  const tmp = realpathSync(mkdtempSync(path.join(tmpdir(), 'reconcile-review-base-')));
  const remove = () => rmSync(tmp, { recursive: true, force: true });
  const env = { GIT_INDEX_FILE: path.join(tmp, 'index') };
  const dir = path.join(tmp, 'tree');
  try {
    const read = await git(top, ['read-tree', commit], { env, timeoutMs: 300_000 });
    if (!read.ok) throw new UserError(`reconcile review: git read-tree ${commit.slice(0, 12)}: ${read.stderr.trim().split('\n')[0]}`);
    const out = await git(top, ['checkout-index', '--all', '--force', `--prefix=${dir}/`], { env, timeoutMs: 300_000 });
    if (!out.ok) throw new UserError(`reconcile review: git checkout-index: ${out.stderr.trim().split('\n')[0]}`);
  } catch (e) {
    remove();
    throw e;
  }
  return { dir, remove };
}

export type FileStatus = 'added' | 'removed' | 'changed';

/** Files changed between `commit` and the working tree (untracked ones as added), repository-relative. */
export async function changedFiles(top: string, commit: string): Promise<Map<string, FileStatus>> {
  const [diff, untracked] = await Promise.all([
    git(top, ['diff', '--name-status', '--no-renames', '-z', commit, '--']),
    git(top, ['ls-files', '-z', '--others', '--exclude-standard']),
  ]);
  if (!diff.ok) throw new UserError(`reconcile review: git diff ${commit.slice(0, 12)}: ${diff.stderr.trim().split('\n')[0]}`);
  const out = new Map<string, FileStatus>();
  const parts = diff.stdout.split('\0');
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const s = parts[i]!;
    out.set(parts[i + 1]!, s.startsWith('A') ? 'added' : s.startsWith('D') ? 'removed' : 'changed');
  }
  if (untracked.ok) for (const f of untracked.stdout.split('\0')) if (f) out.set(f, 'added');
  return out;
}
