import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { exec } from '../host/exec.js';
import type { GitFileState, GitInfo } from './types.js';

export type { GitFileState, GitInfo } from './types.js';

/** The directory holding `.git` at or above `dir`, or null: found without spawning anything. */
export function gitRoot(dir: string): string | null {
  let at = path.resolve(dir);
  for (;;) {
    if (existsSync(path.join(at, '.git'))) return at;
    const parent = path.dirname(at);
    if (parent === at) return null;
    at = parent;
  }
}

/**
 * The spec's commit and the truth about its bytes (and, given, every other source file's) in one
 * git process; null outside a repository or before its first commit. A spec outside git spawns nothing.
 */
export function gitInfo(file: string, sources: string[] = []): Promise<GitInfo | null> {
  // Once per spec and process: the CLI starts it before it loads the planner, so git runs meanwhile.
  const key = [file, ...sources].map((f) => path.resolve(f)).join('\0');
  let info = asked.get(key);
  if (!info) {
    info = askGit(file, sources).catch(() => null);
    asked.set(key, info);
  }
  return info;
}

const asked = new Map<string, Promise<GitInfo | null>>();

async function askGit(file: string, sources: string[]): Promise<GitInfo | null> {
  const spec = path.resolve(file);
  const root = gitRoot(path.dirname(spec));
  if (root === null) return null;
  const rel = (p: string) => path.relative(root, path.resolve(p)).split(path.sep).join('/');
  const specDir = rel(path.dirname(spec)) || '.';
  const others = [...new Set(sources.map(rel))].filter((s) => s !== rel(spec) && !s.startsWith('../'));
  // Limited to the spec's directory and the sources, so git never walks a whole large repository.
  // Ignored entries are asked for only as `matching` (an ignored directory is one entry, not walked).
  const r = await exec(
    ['git', '-C', root, 'status', '--porcelain=v2', '-z', '--branch', '--untracked-files=all', '--ignored=matching', '--no-renames', '--', `:(top,literal)${specDir}`, ...[rel(spec), ...others].map((p) => `:(top,literal)${p}`)],
    { timeoutMs: 10_000 },
  );
  if (!r.ok) return null;
  const status = parseStatus(r.stdout);
  if (!status.oid || status.oid === '(initial)') return null;
  const state = stateOf(status, rel(spec));
  const sourceStates = others.map((p) => ({ path: p, state: stateOf(status, p) })).filter((s) => s.state !== 'clean');
  // Ignored files beside the spec (saved plans, editor backups) are not what the plan reads.
  const dirtyDir = status.entries.some((e) => e.state !== 'ignored' && (specDir === '.' || e.path.startsWith(`${specDir}/`)));
  return {
    commit: status.oid,
    dirty: dirtyDir || state !== 'clean' || sourceStates.length > 0,
    state,
    ...(sourceStates.length ? { sources: sourceStates } : {}),
  };
}

interface Status {
  oid?: string;
  entries: { path: string; state: Exclude<GitFileState, 'clean'> }[];
}

/** `git status --porcelain=v2 -z --branch` output: paths repository-relative; a directory entry ends in `/`. */
export function parseStatus(out: string): Status {
  const status: Status = { entries: [] };
  const fields = out.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.startsWith('# branch.oid ')) status.oid = f.slice('# branch.oid '.length);
    else if (f.startsWith('? ')) status.entries.push({ path: f.slice(2), state: 'untracked' });
    else if (f.startsWith('! ')) status.entries.push({ path: f.slice(2), state: 'ignored' });
    else if (/^[12u] /.test(f)) {
      // 1 XY sub mH mI mW hH hI PATH; 2 (a rename) has a score and the original path as the next field;
      // u (unmerged) has three modes and hashes.
      const parts = f.split(' ');
      const xy = parts[1]!;
      const skip = f[0] === '1' ? 8 : f[0] === '2' ? 9 : 10;
      const p = parts.slice(skip).join(' ');
      if (f[0] === '2') i++;
      status.entries.push({ path: p, state: xy[0] === 'A' ? 'added' : xy.includes('D') ? 'deleted' : 'modified' });
    }
  }
  return status;
}

function stateOf(status: Status, file: string): GitFileState {
  for (const e of status.entries) if (e.path === file || (e.path.endsWith('/') && file.startsWith(e.path))) return e.state;
  return 'clean';
}

/** Whether commit `a` is `b` or an ancestor of it in the repository around `dir`; false when git cannot say. */
export async function isAncestor(dir: string, a: string, b: string): Promise<boolean> {
  if (!/^[0-9a-f]{7,64}$/.test(a) || !/^[0-9a-f]{7,64}$/.test(b)) return false;
  const r = await exec(['git', '-C', dir, 'merge-base', '--is-ancestor', a, b], { timeoutMs: 10_000 });
  return r.exitCode === 0;
}
