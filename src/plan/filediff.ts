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

/**
 * Diffs of contiguous edits of one file given as its lines (each with its own newline): an edit
 * replaces `remove` lines from `start` by `insert`. Each diff is the same text as fileDiff of the
 * whole file before and after that edit, but computed on the edit and its context only, so a plan
 * with one change per line of a large file (20,000 exports) stays linear.
 */
export function lineEditDiffs(path: string, lines: readonly string[], options: { context?: number } = {}) {
  const context = options.context ?? 3;
  // Physical lines before each line (a line may hold continuations).
  const startOf = [0];
  for (const l of lines) startOf.push(startOf.at(-1)! + physicalLines(l));
  return (start: number, remove: number, insert: readonly string[]): string => {
    // A window of `context` lines holds at least `context` physical lines of context.
    const from = Math.max(0, start - context);
    const to = Math.min(lines.length, start + remove + context);
    const before = lines.slice(from, to).join('');
    const after = [...lines.slice(from, start), ...insert, ...lines.slice(start + remove, to)].join('');
    const hunk = fileDiff(path, before, after, { context });
    const offset = startOf[from]!;
    if (offset === 0) return hunk;
    return hunk.replace(/^@@ -(\d+)((?:,\d+)?) \+(\d+)((?:,\d+)?) @@/gm, (_m, a: string, ac: string, b: string, bc: string) => `@@ -${Number(a) + offset}${ac} +${Number(b) + offset}${bc} @@`);
  };
}

function physicalLines(line: string): number {
  let n = 0;
  for (let i = line.indexOf('\n'); i !== -1; i = line.indexOf('\n', i + 1)) n++;
  return n;
}
