import { describe, expect, it } from 'vitest';
import { fileBatch } from './batch.js';
import { dirEnsure, exec, fileWrite, symlink } from '../plan/steps.js';

const write = (p: string, after?: string[]) => fileWrite({ path: p, content: 'x\n', before: null }, after ? { after } : {});
const ids = (steps: ReturnType<typeof write>[], start = 0) => fileBatch(steps, start).map((s) => s.id);

describe('fileBatch: the steps that run at once', () => {
  it('takes writes, links and directories of unrelated paths, 16 at most', () => {
    const steps = [dirEnsure({ path: '/srv/a' }), dirEnsure({ path: '/srv/b' }), write('/etc/x'), symlink({ path: '/etc/y', target: '/x', before: null })];
    expect(ids(steps)).toEqual(['dir:/srv/a', 'dir:/srv/b', 'file:/etc/x', 'file:/etc/y']);
    const many = Array.from({ length: 40 }, (_, i) => write(`/etc/f${i}`));
    expect(ids(many)).toHaveLength(16);
    expect(ids(many, 32)).toHaveLength(8);
  });

  it('stops before a path inside another of the batch, the same path, or one it contains', () => {
    expect(ids([dirEnsure({ path: '/srv/a' }), write('/srv/a/file')])).toEqual(['dir:/srv/a']);
    expect(ids([write('/srv/a/file'), dirEnsure({ path: '/srv/a' })])).toEqual(['file:/srv/a/file']);
    expect(ids([write('/etc/x'), write('/etc/x')])).toEqual(['file:/etc/x']);
    // A sibling whose name starts the same is not inside it.
    expect(ids([dirEnsure({ path: '/srv/a' }), dirEnsure({ path: '/srv/ab' })])).toEqual(['dir:/srv/a', 'dir:/srv/ab']);
  });

  it('stops before a step that waits on one of the batch, and runs anything else alone', () => {
    expect(ids([write('/etc/a'), write('/etc/b', ['file:/etc/a'])])).toEqual(['file:/etc/a']);
    expect(ids([write('/etc/a'), write('/etc/b', ['file:*'])])).toEqual(['file:/etc/a']);
    expect(ids([exec(['true']), write('/etc/a')])).toEqual(['exec:true']);
    expect(ids([write('/etc/a'), exec(['true'])])).toEqual(['file:/etc/a']);
  });
});
