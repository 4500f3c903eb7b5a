/**
 * Journals keep no secret in clear and are pruned: a password moved out of fstab into a
 * credentials file appears in no journal byte; only the newest 50 journals are kept.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';

const PASSWORD = 'Hunter2-only-in-fstab';
let dir: string;
let root: string;
let spec: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'reconcile-journal-'));
  root = path.join(dir, 'root');
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  writeFileSync(path.join(root, 'etc/fstab'), `# hand-written\n//fs.example.internal/share /mnt/share cifs username=bob,password=${PASSWORD},_netdev 0 0\n`);
  spec = path.join(dir, 'host.yaml');
  writeFileSync(spec, 'host: c1\nmounts:\n  - {path: /mnt/share, source: //fs.example.internal/share, type: cifs, options: [_netdev], state: present}\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Every byte under a directory, concatenated. */
function allBytes(d: string): string {
  let out = '';
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    out += e.isDirectory() ? allBytes(p) : readFileSync(p, 'latin1');
  }
  return out;
}

describe('journals', () => {
  it('never hold a password moved from fstab into a credentials file', async () => {
    const a = await runCli(['apply', spec, '--root', root, '--yes']);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    expect(readFileSync(path.join(root, 'etc/fstab'), 'utf8')).not.toContain(PASSWORD);
    const creds = readdirSync(path.join(root, 'etc'), { recursive: true }).map(String).filter((f) => f.includes('cred'));
    expect(creds.length).toBeGreaterThan(0); // the password went somewhere: a credentials file
    const journal = path.join(root, 'var/lib/reconcile/journal');
    const bytes = allBytes(journal);
    expect(bytes).toContain('/etc/fstab'); // the fstab was backed up...
    expect(bytes).toContain('password=***'); // ...with its password masked
    expect(bytes).not.toContain(PASSWORD);
    expect(bytes).not.toContain(Buffer.from(PASSWORD).toString('base64'));
  });

  it('keep the newest 50', async () => {
    const journal = path.join(root, 'var/lib/reconcile/journal');
    for (let i = 0; i < 60; i++) mkdirSync(path.join(journal, `2020-01-01T00-00-${String(i).padStart(2, '0')}-000Z-1`, 'files'), { recursive: true });
    const a = await runCli(['apply', spec, '--root', root, '--yes']);
    expect(a.exitCode).toBe(0);
    const left = readdirSync(journal).sort();
    expect(left).toHaveLength(50);
    expect(left[0]).toBe('2020-01-01T00-00-11-000Z-1'); // the 11 oldest are gone
    expect(statSync(path.join(journal, left.at(-1)!, 'journal.jsonl')).isFile()).toBe(true); // this apply's
  });
});
