import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { exec } from '../host/exec.js';

/**
 * The spec's commit and whether its directory in the working tree is dirty; null outside a repository. The
 * repository is found by walking up for `.git` first, so a spec outside git spawns nothing.
 */
export function gitInfo(file: string, also: string[] = []): Promise<{ commit: string; dirty: boolean } | null> {
  // Once per spec and process: the CLI starts it before it loads the planner, so git runs meanwhile.
  const key = JSON.stringify([path.resolve(file), ...also]);
  let info = asked.get(key);
  if (!info) {
    info = askGit(file, also).catch(() => null);
    asked.set(key, info);
  }
  return info;
}

const asked = new Map<string, Promise<{ commit: string; dirty: boolean } | null>>();

/** `also`: more files that count (a merged spec's fragments and its fleet's inventory files). */
async function askGit(file: string, also: string[]): Promise<{ commit: string; dirty: boolean } | null> {
  let dir = path.dirname(path.resolve(file));
  for (;;) {
    if (existsSync(path.join(dir, '.git'))) break;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
  // Dirty means: something tracked in the spec's own directory differs from the commit (the
  // spec, the migrations beside it). Limiting status to it keeps git from stat'ing a whole repo.
  const specDir = path.dirname(path.resolve(file));
  const r = await exec(['git', '-C', specDir, 'status', '--porcelain=v2', '--branch', '--untracked-files=no', '--', '.', ...also.map((f) => path.resolve(f))], { timeoutMs: 10_000 });
  if (!r.ok) return null;
  const oid = /^# branch\.oid (\S+)$/m.exec(r.stdout)?.[1];
  if (!oid || oid === '(initial)') return null;
  const dirty = r.stdout.split('\n').some((l) => l !== '' && !l.startsWith('#'));
  return { commit: oid, dirty };
}
