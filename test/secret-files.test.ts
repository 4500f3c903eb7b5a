/**
 * A `{file: PATH}` secret is a regular file of at most 64 KiB: /dev/zero, a FIFO or a huge file is
 * refused at once with the reference's FILE:LINE:COL, where it used to hang or fill memory.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'reconcile-secretfile-'));
  mkdirSync(path.join(dir, 'root/etc'), { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function specWith(file: string): string {
  const spec = path.join(dir, 'host.yaml');
  writeFileSync(
    spec,
    `host: c1
mounts:
  - path: /mnt/share
    source: //fs.example.internal/share
    type: cifs
    credentials: {username: share, password: {file: ${file}}}
`,
  );
  return spec;
}

describe('secret files', () => {
  const cases: [string, () => string, RegExp][] = [
    ['/dev/zero', () => '/dev/zero', /is a character device, not a regular file/],
    ['a FIFO', () => {
      const fifo = path.join(dir, 'secret.fifo');
      execFileSync('mkfifo', [fifo]);
      return fifo;
    }, /is a FIFO, not a regular file/],
    ['a 1 MiB file', () => {
      const big = path.join(dir, 'big.secret');
      writeFileSync(big, Buffer.alloc(1 << 20, 'a'));
      return big;
    }, /is 1048576 bytes; a secret file may hold at most 65536/],
    ['a directory', () => dir, /is a directory, not a regular file/],
  ];
  for (const [name, make, message] of cases) {
    it(`refuses ${name} at the reference's position, at once`, async () => {
      const spec = specWith(make());
      const started = Date.now();
      const r = await runCli(['plan', spec, '--root', path.join(dir, 'root')], { timeoutMs: 20_000 });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^${spec}:6:46: secret reference \\{file: .*\\}: ${message.source}`, 'm'));
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(Date.now() - started).toBeLessThan(15_000);
    });
  }

  it('reads a regular secret file, its trailing newline dropped', async () => {
    const file = path.join(dir, 'pw');
    writeFileSync(file, 's3cret-pw\n', { mode: 0o600 });
    const r = await runCli(['plan', specWith(file), '--root', path.join(dir, 'root')]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).not.toContain('s3cret-pw');
  });
});
