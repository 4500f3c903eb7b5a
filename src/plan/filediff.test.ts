import { describe, expect, it } from 'vitest';
import { applyPatch } from 'diff';
import { editFile, fileDiff, ownLinesText, type LineEdit } from './filediff.js';

/** A small seeded generator: the same cases on every run. */
function rng(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** Random files and non-overlapping edits by two or three owners. */
function cases(pool: (k: number) => string, count: number) {
  const r = rng(11);
  return Array.from({ length: count }, (_, n) => {
    const size = Math.floor(r() * 16);
    const lines = Array.from({ length: size }, (_, i) => pool(n * 100 + i));
    // A last line that is empty and unterminated is no line at all: not a file of that shape.
    const finalNewline = r() < 0.8 || lines.at(-1) === '';
    const before = size === 0 ? (r() < 0.3 ? null : '') : lines.join('\n') + (finalNewline ? '\n' : '');
    const edits: LineEdit[] = [];
    let at = 0;
    while (at <= size && edits.length < 4) {
      at += Math.floor(r() * 6);
      if (at > size) break;
      const remove = Math.min(size - at, Math.floor(r() * 3));
      const insert = Array.from({ length: Math.floor(r() * 3) }, (_, i) => `new ${n} ${edits.length} ${i}`);
      edits.push({ owner: `o${edits.length % 3}`, start: at, remove, insert });
      at += remove + 1;
    }
    return { before, edits };
  });
}

describe('ownLinesText: an owner\'s lines read back from the diff alone', () => {
  it('gives exactly the lines each owner removes and adds, with repeated lines, lines starting with -- or ++, and no final newline', () => {
    const pool = ['/a 1(rw)', '-- a comment', '++x', '', '/a 1(rw)', '--- a/etc/x'];
    for (const c of cases((k) => pool[k % pool.length]!, 400)) {
      const { after, file } = editFile('/etc/x', c.before, c.edits);
      const oldLines = (c.before ?? '').split('\n');
      const newLines = after.split('\n');
      for (const owner of new Set(c.edits.map((e) => e.owner))) {
        const own = file.lines[owner] ?? { removed: [], added: [] };
        expect(ownLinesText(file, owner), `${JSON.stringify(c)}\n${file.diff}`).toEqual({ removed: own.removed.map((n) => oldLines[n - 1]), added: own.added.map((n) => newLines[n - 1]) });
      }
    }
  });

  it('an owner without lines in the file has none', () => {
    const { file } = editFile('/etc/x', 'a\n', [{ owner: 'x', start: 0, remove: 1, insert: ['b'] }]);
    expect(ownLinesText(file, 'x')).toEqual({ removed: ['a'], added: ['b'] });
    expect(ownLinesText(file, 'y')).toEqual({ removed: [], added: [] });
  });
});

describe('editFile', () => {
  it('appends to a 3-line file as a hunk at the real lines with the 3 lines as context', () => {
    const { after, file } = editFile('/etc/fstab', 'a\nb\nc\n', [{ owner: 'mounts[/mnt/x]', start: 3, remove: 0, insert: ['d'] }]);
    expect(after).toBe('a\nb\nc\nd\n');
    expect(file.diff).toBe('--- a/etc/fstab\n+++ b/etc/fstab\n@@ -1,3 +1,4 @@\n a\n b\n c\n+d\n');
    expect(file.lines).toEqual({ 'mounts[/mnt/x]': { removed: [], added: [4] } });
  });

  it('is the text diff(1) gives for the whole file when lines are distinct', () => {
    for (const c of cases((k) => `line ${k}`, 400)) {
      const { after, file } = editFile('/etc/x', c.before, c.edits);
      const whole = (c.before ?? '') === after ? '' : fileDiff('/etc/x', c.before, after);
      expect(file.diff, JSON.stringify(c)).toBe(whole);
    }
  });

  it('is a correct patch with repeated lines and no final newline, and each owner owns exactly its lines', () => {
    const pool = ['/a 1(rw)', '/b 2(ro)', '# comment', '', '/a 1(rw)'];
    for (const c of cases((k) => pool[k % pool.length]!, 400)) {
      const { after, file } = editFile('/etc/x', c.before, c.edits);
      if (file.diff === '') expect(after).toBe(c.before ?? '');
      else {
        let patched: string | false;
        try {
          patched = applyPatch(c.before ?? '', file.diff);
        } catch (e) {
          throw new Error(`${JSON.stringify(c)}\n${file.diff}\n${(e as Error).message}`);
        }
        expect(patched, JSON.stringify(c)).toBe(after);
      }
      const newLines = after.split('\n');
      for (const e of c.edits) {
        const own = file.lines[e.owner];
        for (const l of e.insert) expect(own?.added.map((n) => newLines[n - 1]), JSON.stringify(c)).toContain(l);
      }
    }
  });

  it('masks what it shows, never what it writes', () => {
    const mask = (l: string) => l.replace(/password=[^,\s]*/g, 'password=***');
    const { after, file } = editFile('/etc/fstab', '//s/a /mnt/a cifs password=hunter2 0 0\n', [{ owner: 'm', start: 1, remove: 0, insert: ['tmpfs /mnt/b tmpfs password=s3cret 0 0'] }], { mask });
    expect(after).toContain('password=hunter2');
    expect(after).toContain('password=s3cret');
    expect(file.diff).not.toMatch(/hunter2|s3cret/);
    expect(file.diff).toContain(' //s/a /mnt/a cifs password=*** 0 0');
  });
});

describe('fileDiff of a file created or emptied', () => {
  it('is the text the diff library makes, for every ending, blank line, CR and null/empty side', async () => {
    const { createTwoFilesPatch } = await import('diff');
    const r = rng(11);
    const bits = ['a', '', ' ', '\r', 'b c', 'ü', '\t', '-x', '+y', '\\'];
    const texts = ['', '\n', '\n\n', 'x', 'x\n', 'x\r\n', '\r\n', 'a\rb\n'];
    for (let n = 0; n < 300; n++) {
      const lines = Array.from({ length: Math.floor(r() * 6) }, () => Array.from({ length: Math.floor(r() * 3) }, () => bits[Math.floor(r() * bits.length)]).join(''));
      texts.push(lines.join(r() < 0.5 ? '\n' : '\r\n') + (r() < 0.6 ? '\n' : ''));
    }
    for (const text of texts) {
      for (const [before, after] of [[null, text], ['', text], [text, null], [text, '']] as const) {
        if (before === after) continue;
        const labels = [before === null ? '/dev/null' : 'a/etc/f', after === null ? '/dev/null' : 'b/etc/f'] as const;
        const library = createTwoFilesPatch(...labels, before ?? '', after ?? '', undefined, undefined, { context: 3 }).replace(/^=+\n/, '');
        expect(fileDiff('/etc/f', before, after), JSON.stringify([before, after])).toBe(library);
      }
    }
  });
});
