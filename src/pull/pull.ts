import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { Host } from '../host/host.js';
import { UserError } from '../errors.js';
import { STATE_DIR } from '../apply/state.js';

export const PULL_CACHE_DIR = `${STATE_DIR}/pull`;
export const PULL_STATE_FILE = `${STATE_DIR}/pull-state.json`;

/** The last commit pull applied: what the next pull must fast-forward from. */
export interface PullState {
  formatVersion: 1;
  repo: string;
  ref: string;
  path: string;
  commit: string;
  appliedAt: string;
}

/** A local path is named by its absolute form, so `./repo` and `/abs/repo` share a cache. */
export function repoId(repo: string): string {
  return existsSync(repo) ? path.resolve(repo) : repo;
}

export function cacheDirOf(repo: string): string {
  return `${PULL_CACHE_DIR}/${createHash('sha256').update(repoId(repo)).digest('hex').slice(0, 16)}`;
}

/** `https://user:token@host/repo` as it may be shown: without the user part. */
export function withoutCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1');
}

async function git(host: Host, dir: string, args: string[], what: string) {
  // argv only, never a shell; no credential prompt may hang a timer-driven pull.
  const r = await host.exec(['git', '-C', dir, ...args], { timeoutMs: 300_000, env: { GIT_TERMINAL_PROMPT: '0' }, describe: what });
  return r;
}

async function gitOk(host: Host, dir: string, args: string[], what: string): Promise<string> {
  const r = await git(host, dir, args, what);
  if (!r.ok) {
    const lines = r.stderr.trim().split('\n').filter(Boolean);
    // git's own verdict is its `fatal:` line; the lines after it are hints.
    const why = r.failedToStart ? 'git could not start (is git installed?)' : (lines.find((l) => l.startsWith('fatal:')) ?? lines.pop() ?? `exit ${r.exitCode}`);
    throw new UserError(`reconcile pull: ${withoutCredentials(what)} failed: ${withoutCredentials(why)}`);
  }
  return r.stdout;
}

/**
 * Clones or fetches the repo into the cache (root-relative under var/lib/reconcile/pull) and
 * resolves the ref to a commit, checking nothing out: the commit is verified first.
 */
export async function fetchRef(host: Host, repo: string, ref: string): Promise<{ dir: string; commit: string }> {
  const url = repoId(repo);
  await host.ensureDir(cacheDirOf(repo), { mode: 0o700 });
  const dir = await host.realPath(cacheDirOf(repo), { follow: true, write: true });
  if (!existsSync(path.join(dir, '.git'))) {
    await gitOk(host, dir, ['init', '--quiet'], `git init ${dir}`);
    await gitOk(host, dir, ['remote', 'add', '--', 'origin', url], 'git remote add');
  } else {
    await gitOk(host, dir, ['remote', 'set-url', '--', 'origin', url], 'git remote set-url');
  }
  // Forced: a branch that was force-pushed must be seen as it now is, so the rewind check can refuse it.
  await gitOk(host, dir, ['fetch', '--quiet', '--force', '--prune', '--tags', 'origin', '+refs/heads/*:refs/remotes/origin/*'], `git fetch ${withoutCredentials(url)}`);
  let commit: string | undefined;
  for (const candidate of [`refs/remotes/origin/${ref}`, `refs/tags/${ref}`, ref]) {
    const r = await git(host, dir, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${candidate}^{commit}`], 'git rev-parse');
    if (r.ok) {
      commit = r.stdout.trim();
      break;
    }
  }
  if (!commit) throw new UserError(`reconcile pull: ${ref} is not a branch, tag or commit of ${withoutCredentials(url)}`);
  return { dir, commit };
}

/** Checks the commit out detached, forcing away anything left in the work tree. */
export async function checkoutCommit(host: Host, dir: string, commit: string): Promise<void> {
  await gitOk(host, dir, ['checkout', '--quiet', '--force', '--detach', commit], `git checkout ${commit.slice(0, 12)}`);
  await gitOk(host, dir, ['clean', '-ffdxq'], 'git clean');
}

/**
 * The commit's SSH signature, checked by git against the allowed-signers file installed on the host
 * (never one from the repository: whoever can push could then allow themselves). Config by `-c`
 * for this one command, so the cache's own config cannot change it. Throws with git's verdict.
 */
export async function verifyCommit(host: Host, dir: string, commit: string, allowedSigners: { given: string } | { onHost: string }): Promise<string> {
  // The default is the host's installed file (under --root, the root's); a given path is the operator's, as is.
  const file = 'given' in allowedSigners ? path.resolve(allowedSigners.given) : host.resolve(allowedSigners.onHost);
  if (!existsSync(file)) throw new UserError(`reconcile pull: --verify-signatures: the allowed-signers file ${file} does not exist (reconcile pull REPO --install-timer --verify-signatures --allowed-signers FILE installs it)`);
  if (file.startsWith(host.resolve(PULL_CACHE_DIR) + path.sep)) throw new UserError(`reconcile pull: --allowed-signers ${file} is inside the pull cache: the repository must not choose who may sign it`);
  const r = await git(host, dir, ['-c', 'gpg.format=ssh', '-c', `gpg.ssh.allowedSignersFile=${file}`, 'verify-commit', '--verbose', '--end-of-options', commit], 'git verify-commit');
  const said = `${r.stderr}`.trim().split('\n').filter(Boolean);
  if (!r.ok) {
    const why = r.failedToStart ? 'git could not start' : said.find((l) => /^(error|fatal):|No principal matched|Could not verify|Signature verification failed|no signature found/i.test(l)) ?? said.pop() ?? 'the commit carries no signature'; // git says nothing for an unsigned commit
    throw new UserError(`reconcile pull: refusing ${commit.slice(0, 12)}: its signature does not verify against ${file}: ${why.replace(/^(error|fatal): /, '')}`);
  }
  return said.find((l) => /^Good "git" signature/.test(l)) ?? 'good signature';
}

/** `pull --disable REASON`: a local flag; a disabled pull reports it and changes nothing. */
export const PULL_DISABLED_FILE = `${STATE_DIR}/pull-disabled.json`;

export interface PullDisabled {
  reason: string;
  at: string;
  by: string;
}

export async function readPullDisabled(host: Host): Promise<PullDisabled | null> {
  const text = await host.readText(PULL_DISABLED_FILE);
  if (text === null) return null;
  try {
    const d = JSON.parse(text) as Partial<PullDisabled>;
    return { reason: String(d.reason ?? 'no reason recorded'), at: String(d.at ?? ''), by: String(d.by ?? '') };
  } catch {
    // A flag that cannot be read still means someone disabled pull: fail closed.
    return { reason: `${host.resolve(PULL_DISABLED_FILE)} is not valid JSON`, at: '', by: '' };
  }
}

export async function readPullState(host: Host): Promise<PullState | null> {
  const text = await host.readText(PULL_STATE_FILE);
  if (text === null) return null;
  try {
    return JSON.parse(text) as PullState;
  } catch {
    throw new UserError(`${host.resolve(PULL_STATE_FILE)} is not valid JSON; move it aside to accept any commit`);
  }
}

export async function writePullState(host: Host, state: PullState): Promise<void> {
  await host.writeFile(PULL_STATE_FILE, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

/** Refuses a commit that does not descend from the last applied one (a rewound or rewritten branch). */
export async function checkFastForward(host: Host, dir: string, last: PullState | null, commit: string, ref: string, allowRewind: boolean): Promise<string | undefined> {
  if (!last || last.commit === commit) return undefined;
  const r = await git(host, dir, ['merge-base', '--is-ancestor', last.commit, commit], 'git merge-base --is-ancestor');
  if (r.ok) return undefined;
  const why =
    r.exitCode === 1
      ? `${ref} (${commit.slice(0, 12)}) is not a fast-forward of the last applied commit ${last.commit.slice(0, 12)} (applied ${last.appliedAt})`
      : `the last applied commit ${last.commit.slice(0, 12)} (applied ${last.appliedAt}) is not in the repository, so ${ref} (${commit.slice(0, 12)}) cannot be shown to follow it`;
  if (!allowRewind) throw new UserError(`reconcile pull: refusing: ${why}; pass --allow-rewind to accept it`);
  return `accepted with --allow-rewind: ${why}`;
}

/** `hosts/{hostname}.yaml` for this host: the full name first, then the short one. */
export function specCandidates(template: string, name: string): string[] {
  const names = [...new Set([name, name.split('.')[0]!])];
  return [...new Set(names.map((n) => template.replaceAll('{hostname}', n)))];
}

/** The spec inside the checkout; a path leaving it is refused. */
export function locateSpec(dir: string, template: string, name: string): string {
  const tried: string[] = [];
  for (const rel of specCandidates(template, name)) {
    const file = path.resolve(dir, rel);
    if (file !== dir && !file.startsWith(dir + path.sep)) throw new UserError(`reconcile pull: --path ${template} leaves the repository`);
    if (existsSync(file)) return file;
    tried.push(rel);
  }
  throw new UserError(`reconcile pull: no spec for host "${name}" in the repository (tried ${tried.join(', ')}; see --path and --host)`);
}
