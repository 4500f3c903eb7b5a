import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { TracingHost, verifyTrace } from './trace.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'reconcile-trace-'));
  mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
  writeFileSync(path.join(root, 'etc/fstab'), '# hand-written\nUUID=1 / ext4 defaults 0 1\n');
  writeFileSync(path.join(root, 'etc/systemd/system/a.service'), '[Service]\nExecStart=/bin/true\n');
  symlinkSync('/usr/share/zoneinfo/Etc/UTC', path.join(root, 'etc/localtime'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** What a plan of these files would read. */
async function traced() {
  const host = new TracingHost(root);
  await Promise.all([host.read('/etc/fstab'), host.read('/etc/missing'), host.list('/etc/systemd/system'), host.readlink('/etc/localtime'), host.lstat('/etc/systemd/system/a.service')]);
  return host;
}

/** Rewrites a file with other bytes of the same length and puts its timestamps back: it looks untouched. */
function forge(file: string, content: string) {
  const before = statSync(file);
  expect(Buffer.byteLength(content)).toBe(before.size);
  writeFileSync(file, content);
  utimesSync(file, before.atime, before.mtime);
}

describe('the trace of a plan', () => {
  it('confirms itself when nothing changed', async () => {
    const host = await traced();
    expect(Object.keys(host.trace()).sort()).toEqual([
      'list ["/etc/systemd/system"]',
      'lstat ["/etc/systemd/system/a.service"]',
      'read ["/etc/fstab"]',
      'read ["/etc/missing"]',
      'readlink ["/etc/localtime"]',
    ]);
    expect(host.incomplete).toBeUndefined();
    expect(await verifyTrace(host.trace(), root)).toEqual({ same: true });
  });

  it('keeps digests, never the bytes it read', async () => {
    const host = await traced();
    expect(JSON.stringify(host.trace())).not.toContain('hand-written');
  });

  // Each way the machine can change under a kept plan, including the ones timestamps would miss.
  const changes: [string, (root: string) => void, string][] = [
    ['a byte of a file, same size, timestamps put back', (r) => forge(path.join(r, 'etc/fstab'), '# hand-writteN\nUUID=1 / ext4 defaults 0 1\n'), 'read ["/etc/fstab"]'],
    ['a file that was missing appears', (r) => writeFileSync(path.join(r, 'etc/missing'), ''), 'read ["/etc/missing"]'],
    ['a file appears in a listed directory', (r) => writeFileSync(path.join(r, 'etc/systemd/system/b.service'), ''), 'list ["/etc/systemd/system"]'],
    ['a link points elsewhere', (r) => (unlinkSync(path.join(r, 'etc/localtime')), symlinkSync('/usr/share/zoneinfo/Asia/Tokyo', path.join(r, 'etc/localtime'))), 'readlink ["/etc/localtime"]'],
    ['a mode changes', (r) => chmodSync(path.join(r, 'etc/systemd/system/a.service'), 0o600), 'lstat ["/etc/systemd/system/a.service"]'],
  ];
  for (const [what, change, call] of changes) {
    it(`does not confirm itself when ${what}`, async () => {
      const trace = (await traced()).trace();
      change(root);
      expect(await verifyTrace(trace, root)).toEqual({ same: false, differs: call });
    });
  }

  it('runs a command again and compares what it said, not how long it took', async () => {
    const host = new TracingHost(root);
    await host.exec(['/bin/echo', 'state'], { timeoutMs: 5_000 });
    const trace = host.trace();
    expect(Object.keys(trace)).toEqual(['exec [["/bin/echo","state"],{"timeoutMs":5000}]']);
    expect(await verifyTrace(trace, root)).toEqual({ same: true });
    expect(await verifyTrace({ 'exec [["/bin/echo","other"],{"timeoutMs":5000}]': Object.values(trace)[0]! }, root)).toMatchObject({ same: false });
  });

  it('is incomplete when a command takes input or environment, or a secret file is digested', async () => {
    for (const call of [
      (h: TracingHost) => h.exec(['/bin/cat'], { input: 'x' }),
      (h: TracingHost) => h.exec(['/bin/true'], { env: { A: '1' } }),
      (h: TracingHost) => h.fileFacts('/etc/fstab'),
    ]) {
      const host = new TracingHost(root);
      await call(host);
      expect(host.incomplete).toBeDefined();
    }
  });

  it('does not confirm a call it cannot ask again', async () => {
    expect(await verifyTrace({ 'hostname []': 'x' }, root)).toEqual({ same: false, differs: 'hostname []' });
  });
});
