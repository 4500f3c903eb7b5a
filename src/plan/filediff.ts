import { createTwoFilesPatch } from 'diff';
import { redact } from '../spec/secrets.js';

/**
 * A unified diff of one file, git-style labels, secrets redacted. `null` stands for a file that
 * does not exist (before) or is removed (after).
 */
export function fileDiff(path: string, before: string | null, after: string | null, options: { context?: number } = {}): string {
  if (before === after) return '';
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
