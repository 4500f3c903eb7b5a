import { describe, expect, it } from 'vitest';
import { applyPatch } from 'diff';
import { fileDiff, lineEditDiffs } from './filediff.js';

/** A small seeded generator: the same cases on every run. */
function rng(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

function cases(pool: (n: number) => string, count: number) {
  const r = rng(7);
  return Array.from({ length: count }, (_, n) => {
    const lines = Array.from({ length: Math.floor(r() * 14) }, (_, i) => pool(n * 100 + i + Math.floor(r() * 3) * 1000));
    if (lines.length && r() < 0.3) lines[lines.length - 1] = lines.at(-1)!.replace(/\n$/, '') || 'x';
    const start = Math.floor(r() * (lines.length + 1));
    const remove = Math.min(lines.length - start, Math.floor(r() * 3));
    const insert = Array.from({ length: Math.floor(r() * 3) }, (_, i) => `/new${n}_${i} *(rw)\n`);
    return { lines, start, remove, insert, after: [...lines.slice(0, start), ...insert, ...lines.slice(start + remove)] };
  }).filter((c) => !(c.start === c.lines.length && c.insert.length && c.lines.length && !c.lines.at(-1)!.endsWith('\n'))); // callers end the last line first
}

describe('lineEditDiffs', () => {
  it('gives the text of a diff of the whole file when lines are distinct', () => {
    for (const c of cases((k) => `/e${k} 10.0.0.${k % 250}(rw)\n`, 300)) {
      const whole = fileDiff('/etc/exports', c.lines.join(''), c.after.join(''));
      expect(lineEditDiffs('/etc/exports', c.lines)(c.start, c.remove, c.insert), JSON.stringify(c)).toBe(whole);
    }
  });

  it('is a correct patch of the whole file with repeated lines, continuations and no final newline', () => {
    const pool = ['/a 1(rw)\n', '/b 2(ro)\n', '# comment\n', '\n', '/c \\\n  3(rw)\n', '/a 1(rw)\n'];
    for (const c of cases((k) => pool[k % pool.length]!, 300)) {
      const patch = lineEditDiffs('/etc/exports', c.lines)(c.start, c.remove, c.insert);
      const before = c.lines.join('');
      const after = c.after.join('');
      if (before === after) expect(patch).toBe('');
      else expect(applyPatch(before, patch), JSON.stringify(c)).toBe(after);
    }
  });
});
