import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { exec } from '../host/exec.js';

/**
 * The spec's commit and whether its directory in the working tree is dirty; null outside a repository. The
 * repository is found by walking up for `.git` first, so a spec outside git spawns nothing.
 */
export async function gitInfo(file: string): Promise<{ commit: string; dirty: boolean } | null> {
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
  const r = await exec(['git', '-C', specDir, 'status', '--porcelain=v2', '--branch', '--untracked-files=no', '--', '.'], { timeoutMs: 10_000 });
  if (!r.ok) return null;
  const oid = /^# branch\.oid (\S+)$/m.exec(r.stdout)?.[1];
  if (!oid || oid === '(initial)') return null;
  const dirty = r.stdout.split('\n').some((l) => l !== '' && !l.startsWith('#'));
  return { commit: oid, dirty };
}
