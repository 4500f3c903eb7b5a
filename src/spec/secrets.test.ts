import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_SECRET_FILE_BYTES, readSecretFile, SecretFileError } from './secrets.js';

const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-secret-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const secretFileError = (e: unknown) => (e instanceof SecretFileError ? e.message : ((e as NodeJS.ErrnoException).code ?? String(e)));

/** What readSecretFile gives for this path: the value, or why not; and how long it took. */
function attempt(file: string): { value?: string; error?: string; ms: number } {
  const t0 = performance.now();
  try {
    return { value: readSecretFile(file), ms: performance.now() - t0 };
  } catch (e) {
    return { error: secretFileError(e), ms: performance.now() - t0 };
  }
}

describe('secret files', () => {
  it('reads a small regular file without its final newline', () => {
    writeFileSync(path.join(dir, 'pw'), 'hunter2\n');
    expect(attempt(path.join(dir, 'pw'))).toMatchObject({ value: 'hunter2' });
  });

  it('refuses at once what would never end or block: a device, a FIFO, a directory, a huge file', () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    writeFileSync(path.join(dir, 'huge'), Buffer.alloc(MAX_SECRET_FILE_BYTES + 1, 'x'));
    for (const [file, why] of [
      ['/dev/zero', 'not a regular file'],
      [fifo, 'not a regular file'],
      [dir, 'not a regular file'],
      [path.join(dir, 'huge'), `${MAX_SECRET_FILE_BYTES + 1} bytes`],
      [path.join(dir, 'missing'), 'ENOENT'],
    ] as const) {
      const r = attempt(file);
      expect(r.value, file).toBeUndefined();
      expect(r.error, file).toContain(why);
      expect(r.ms, file).toBeLessThan(1_000);
    }
  });
});
