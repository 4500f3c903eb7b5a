import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPO } from './cli.js';

/** A throw-away copy of an example root (and its spec) under the system temp dir. */
export function tempRoot(example = 'nfs-server'): { dir: string; root: string; spec: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-test-'));
  const root = path.join(dir, 'root');
  cpSync(path.join(REPO, 'examples', 'roots', example), root, { recursive: true, verbatimSymlinks: true });
  const spec = path.join(dir, `${example}.yaml`);
  cpSync(path.join(REPO, 'examples', `${example}.yaml`), spec);
  return { dir, root, spec, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
