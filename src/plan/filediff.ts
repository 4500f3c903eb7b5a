import { createRequire } from 'node:module';
import { redact } from '../spec/secrets.js';

// `diff` is loaded on the first file that differs: a converged plan never needs its ~20 modules.
const require = createRequire(import.meta.url);
let createTwoFilesPatch: typeof import('diff').createTwoFilesPatch | undefined;

/**
 * A unified diff of one file, git-style labels, secrets redacted. `null` stands for a file that
 * does not exist (before) or is removed (after).
 */
export function fileDiff(path: string, before: string | null, after: string | null, options: { context?: number } = {}): string {
  if (before === after) return '';
  createTwoFilesPatch ??= (require('diff') as typeof import('diff')).createTwoFilesPatch;
  const patch = createTwoFilesPatch(
    before === null ? '/dev/null' : `a${path}`,
    after === null ? '/dev/null' : `b${path}`,
    before ?? '',
    after ?? '',
    undefined,
    undefined,
    { context: options.context ?? 3 },
  );
  // The first line is the "=====" separator createTwoFilesPatch adds; git's form starts at ---.
  return redact(patch.replace(/^=+\n/, ''));
}

/** How a symlink change is shown: as a one-line file of its target. */
export function linkDiff(path: string, before: string | null, after: string | null): string {
  return fileDiff(path, before === null ? null : `-> ${before}\n`, after === null ? null : `-> ${after}\n`);
}
