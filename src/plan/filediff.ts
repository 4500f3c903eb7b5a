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
  const from = before === null ? '/dev/null' : `a${path}`;
  const to = after === null ? '/dev/null' : `b${path}`;
  // A file created or emptied (hundreds of new unit files in an apply) is every line added or
  // removed: written out directly, the same text the library makes after a full diff.
  if (!before && after) return redact(wholeFileDiff(from, to, after, '+'));
  if (before && !after) return redact(wholeFileDiff(from, to, before, '-'));
  createTwoFilesPatch ??= (require('diff') as typeof import('diff')).createTwoFilesPatch;
  const patch = createTwoFilesPatch(
    from,
    to,
    before ?? '',
    after ?? '',
    undefined,
    undefined,
    { context: options.context ?? 3 },
  );
  // The first line is the "=====" separator createTwoFilesPatch adds; git's form starts at ---.
  return redact(patch.replace(/^=+\n/, ''));
}

function wholeFileDiff(from: string, to: string, text: string, sign: '+' | '-'): string {
  const lines = text.split('\n');
  const finalNewline = lines.at(-1) === '';
  if (finalNewline) lines.pop();
  const hunk = sign === '+' ? `@@ -0,0 +1,${lines.length} @@` : `@@ -1,${lines.length} +0,0 @@`;
  return `--- ${from}\n+++ ${to}\n${hunk}\n${sign}${lines.join(`\n${sign}`)}\n${finalNewline ? '' : '\\ No newline at end of file\n'}`;
}

/** How a symlink change is shown: as a one-line file of its target. */
export function linkDiff(path: string, before: string | null, after: string | null): string {
  return fileDiff(path, before === null ? null : `-> ${before}\n`, after === null ? null : `-> ${after}\n`);
}

/** One resource's edit of a shared file: `remove` physical lines from `start` (0-based, in the file as it is), then `insert`. */
export interface LineEdit {
  owner: string;
  start: number;
  remove: number;
  /** Physical lines, without their newline. */
  insert: string[];
}

/** Which lines of a shared file are one resource's own: 1-based, `removed` in the file as it is, `added` in the new one. */
export interface OwnLines {
  removed: number[];
  added: number[];
}

/**
 * One unified diff of a file several resources edit (fstab, exports), against the file as it is,
 * with real line numbers and context, and which of its lines are each resource's own.
 */
export interface FileDiff {
  path: string;
  diff: string;
  lines: Record<string, OwnLines>;
}

/**
 * The new bytes of a file and its one diff, from the edits of every resource: both come from the
 * same edit script, so the diff is true to what the write step writes. Linear in the file (a plan
 * with 20,000 exports never runs a general diff). A file without a final newline keeps that shape
 * unless an edit touches or follows its last line; then it gains the newline. `mask` is applied to
 * every line shown (passwords in fstab options), never to the bytes written.
 */
export function editFile(
  path: string,
  before: string | null,
  edits: readonly LineEdit[],
  options: { context?: number; mask?: (line: string) => string } = {},
): { after: string; file: FileDiff } {
  const context = options.context ?? 3;
  const mask = options.mask ?? ((l: string) => l);
  const text = before ?? '';
  const finalNewline = text === '' || text.endsWith('\n');
  const old = text === '' ? [] : (finalNewline ? text.slice(0, -1) : text).split('\n');
  // Stable by start: two appends keep the order they were given in.
  const sorted = edits.map((e, i) => ({ e, i })).sort((a, b) => a.e.start - b.e.start || a.i - b.i).map(({ e }) => ({ ...e, insert: [...e.insert] }));
  for (let k = 1; k < sorted.length; k++) {
    const prev = sorted[k - 1]!;
    if (sorted[k]!.start < prev.start + prev.remove) throw new Error(`${path}: edits of ${prev.owner} and ${sorted[k]!.owner} overlap`);
  }
  let touchesEnd = false;
  if (!finalNewline) {
    // The last line gains a newline: it is part of the first edit that touches or follows it.
    const last = old.length - 1;
    const at = sorted.findIndex((e) => e.start + e.remove > last || e.start > last);
    if (at !== -1) {
      touchesEnd = true;
      const e = sorted[at]!;
      if (e.start > last) sorted[at] = { ...e, start: last, remove: e.remove + 1, insert: [old[last]!, ...e.insert] };
    }
  }
  const out: string[] = [];
  const lines: Record<string, OwnLines> = {};
  const own = (owner: string) => (lines[owner] ??= { removed: [], added: [] });
  // Each edit with its place in the new file.
  const placed: { e: LineEdit; newStart: number }[] = [];
  let o = 0;
  for (const e of sorted) {
    for (; o < e.start; o++) out.push(old[o]!);
    placed.push({ e, newStart: out.length });
    for (let k = 0; k < e.remove; k++) own(e.owner).removed.push(e.start + k + 1);
    for (const l of e.insert) {
      out.push(l);
      own(e.owner).added.push(out.length);
    }
    o = e.start + e.remove;
  }
  for (; o < old.length; o++) out.push(old[o]!);
  const newFinalNewline = finalNewline || touchesEnd;
  const after = out.length === 0 ? '' : out.join('\n') + (newFinalNewline ? '\n' : '');
  const changed = placed.filter(({ e }) => e.remove || e.insert.length);
  if (changed.length === 0 || (after === text && before !== null)) return { after, file: { path, diff: '', lines: {} } };

  // Hunks: edits closer than two contexts apart share one, as in diff(1).
  const hunks: (typeof changed)[] = [];
  for (const p of changed) {
    const h = hunks.at(-1);
    const prev = h?.at(-1);
    if (h && prev && p.e.start - (prev.e.start + prev.e.remove) <= 2 * context) h.push(p);
    else hunks.push([p]);
  }
  const body: string[] = [`--- ${before === null ? '/dev/null' : `a${path}`}`, `+++ b${path}`];
  const noNewline = '\\ No newline at end of file';
  for (const h of hunks) {
    const first = h[0]!;
    const lastEdit = h.at(-1)!;
    const oldFrom = Math.max(0, first.e.start - context);
    const oldTo = Math.min(old.length, lastEdit.e.start + lastEdit.e.remove + context);
    const newFrom = first.newStart - (first.e.start - oldFrom);
    const shown: string[] = [];
    const contextLine = (i: number) => {
      shown.push(` ${mask(old[i]!)}`);
      if (i === old.length - 1 && !finalNewline) shown.push(noNewline);
    };
    let i = oldFrom;
    let newCount = 0;
    // Adjacent edits are one block: its removed lines, then its added lines, as diff(1) shows them.
    for (let k = 0; k < h.length; ) {
      let end = k + 1;
      while (end < h.length && h[end]!.e.start === h[end - 1]!.e.start + h[end - 1]!.e.remove) end++;
      const block = h.slice(k, end).map((p) => p.e);
      for (; i < block[0]!.start; i++, newCount++) contextLine(i);
      for (const e of block) {
        for (let r = 0; r < e.remove; r++) {
          shown.push(`-${mask(old[e.start + r]!)}`);
          if (e.start + r === old.length - 1 && !finalNewline) shown.push(noNewline);
        }
        i = e.start + e.remove;
      }
      for (const e of block) for (const l of e.insert) shown.push(`+${mask(l)}`);
      newCount += block.reduce((n, e) => n + e.insert.length, 0);
      k = end;
    }
    for (; i < oldTo; i++, newCount++) contextLine(i);
    const oldCount = oldTo - oldFrom;
    body.push(`@@ -${oldCount ? oldFrom + 1 : oldFrom},${oldCount} +${newCount ? newFrom + 1 : newFrom},${newCount} @@`, ...shown);
  }
  return { after, file: { path, diff: redact(body.join('\n') + '\n'), lines } };
}

/**
 * The text of one resource's own lines in a shared file's diff (what the plan removes and adds for
 * it), read back from the hunks by their line numbers: a plan's reader (the fleet's removal edges)
 * learns what a change takes away without the file as it was.
 */
export function ownLinesText(file: FileDiff, owner: string): { removed: string[]; added: string[] } {
  const own = file.lines[owner];
  const out = { removed: [] as string[], added: [] as string[] };
  if (!own) return out;
  const removed = new Set(own.removed);
  const added = new Set(own.added);
  let oldNo = 0;
  let newNo = 0;
  let inHunk = false;
  for (const line of file.diff.split('\n')) {
    const hunk = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
    if (hunk) {
      inHunk = true;
      // An empty side counts from the line before its first (`-0,0`): the next line is start + 1.
      oldNo = Number(hunk[1]) - 1;
      newNo = Number(hunk[2]) - 1;
      if (/^@@ -\d+,0 /.test(line)) oldNo++;
      if (/^@@ -\d+(?:,\d+)? \+\d+,0 @@/.test(line)) newNo++;
      continue;
    }
    // Before the first hunk: the file labels (a removed line may itself start with `--`).
    if (!inHunk || line.startsWith('\\')) continue;
    if (line.startsWith('-')) {
      if (removed.has(++oldNo)) out.removed.push(line.slice(1));
    } else if (line.startsWith('+')) {
      if (added.has(++newNo)) out.added.push(line.slice(1));
    } else if (line.startsWith(' ')) {
      oldNo++;
      newNo++;
    }
  }
  return out;
}
