import { describe, expect, it } from 'vitest';
import type { HostSpec } from '../../spec/types.js';
import { diffMounts } from './diff.js';
import type { MountSpec, MountsObserved } from './types.js';

const run = (mounts: MountSpec[], observed: Partial<MountsObserved>, extra: { owned?: string[]; secrets?: Record<string, string> } = {}) =>
  diffMounts({
    spec: { host: 't', mounts } as HostSpec,
    observed: { fstab: '', live: {}, ...observed },
    owned: extra.owned ?? [],
    offline: false,
    secrets: new Map(Object.entries(extra.secrets ?? {})),
  });

describe('mounts diff errors', () => {
  it('names both fstab lines for one managed mount point', () => {
    expect(() => run([{ path: '/x', source: 'tmpfs', type: 'tmpfs' }], { fstab: '# c\ntmpfs /x tmpfs defaults\n/dev/a /y ext4 defaults\ntmpfs /x/ tmpfs size=1m\n' })).toThrow(
      '/etc/fstab lines 2 and 4 both mount /x',
    );
  });
  it('only warns about duplicates it does not manage', () => {
    const out = run([], { fstab: 'a /y ext4 defaults\nb /y ext4 defaults\n' });
    expect(out.changes).toEqual([]);
    expect(out.warnings).toEqual(['/etc/fstab lines 1 and 2 both mount /y (not managed here)']);
  });
  // Two spec entries for one mount point, a password in options, credentials on NFS: the spec
  // alone shows them, so validate refuses them at their position (src/resources/mounts/validate.test.ts).
  it('refuses unknown users and unresolved secrets', () => {
    expect(() => run([{ path: '/x', source: 'tmpfs', type: 'tmpfs', options: ['uid=ghost'] }], {})).toThrow(/uid=ghost: no such user/);
    expect(() => run([{ path: '/x', source: '//h/s', type: 'cifs', credentials: { username: 'u', password: { env: 'P' } } }], {})).toThrow('secret env:P is not resolved');
  });
});

describe('mounts diff shape', () => {
  it('puts one identical fstab step in every change that writes fstab, and digests the whole file', () => {
    const fstab = '# mine\n/dev/vdb /data ext4 defaults 0 2\n';
    const out = run(
      [
        { path: '/a', source: 'tmpfs', type: 'tmpfs', state: 'present' },
        { path: '/b', source: 'tmpfs', type: 'tmpfs', options: ['size=1m'] },
      ],
      { fstab },
    );
    const writes = out.changes.map((c) => c.steps.find((s) => s.id === 'file:/etc/fstab'));
    expect(writes).toHaveLength(2);
    expect(writes[0]).toEqual(writes[1]);
    expect((writes[0]!.args as { content: string }).content).toBe(`${fstab}tmpfs\t/a\ttmpfs\tdefaults\t0\t0\ntmpfs\t/b\ttmpfs\tsize=1m\t0\t0\n`);
    // One diff of fstab for both, each change's lines named in it.
    expect(out.changes.map((c) => c.diff)).toEqual(['', '']);
    expect(out.files).toHaveLength(1);
    expect(out.files![0]!.diff).toBe('--- a/etc/fstab\n+++ b/etc/fstab\n@@ -1,2 +1,4 @@\n # mine\n /dev/vdb /data ext4 defaults 0 2\n+tmpfs\t/a\ttmpfs\tdefaults\t0\t0\n+tmpfs\t/b\ttmpfs\tsize=1m\t0\t0\n');
    expect(out.files![0]!.lines).toEqual({ 'mounts[/a]': { removed: [], added: [3] }, 'mounts[/b]': { removed: [], added: [4] } });
    expect((out.observedByAddress['mounts[/a]'] as { fstabSha256: string }).fstabSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(out.managed).toEqual(['mounts[/a]', 'mounts[/b]']);
  });
  it('never puts a secret in steps or diffs', () => {
    const out = run(
      [{ path: '/s', source: '//h/s', type: 'cifs', credentials: { username: 'u', password: { env: 'P' } } }],
      { fstab: '//h/s /s cifs username=u,password=oldsecret 0 0\n' },
      { secrets: { 'env:P': 'newsecret' } },
    );
    const text = JSON.stringify([out.changes, out.files]);
    expect(text).not.toContain('newsecret');
    expect(text).not.toContain('oldsecret');
    expect(out.changes[0]!.diff).toContain('password=***');
    // The fstab line that held the password, as the one diff of fstab shows it leaving.
    expect(out.files![0]!.diff).toContain('-//h/s /s cifs username=u,password=*** 0 0\n');
  });
});
