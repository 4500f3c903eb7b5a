/**
 * Digests of secrets are keyed: a facts snapshot or a saved plan holds HMAC-SHA256 of a CIFS
 * credentials file under a host-local key (var/lib/reconcile/digest.key, 0600), never its plain
 * sha256, which a word list would reverse.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';

const PASSWORD = 'correct-horse-battery';
let dir: string;
let root: string;
let spec: string;
const env = { CIFS_PW: PASSWORD };
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'reconcile-digest-'));
  root = path.join(dir, 'root');
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  writeFileSync(path.join(root, 'etc/fstab'), '');
  spec = path.join(dir, 'host.yaml');
  writeFileSync(spec, 'host: c1\nmounts:\n  - {path: /mnt/share, source: //fs.example.internal/share, type: cifs, credentials: {username: bob, password: {env: CIFS_PW}}, state: present}\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('keyed digests of secret files', () => {
  it('facts and saved plans hold an HMAC, stable across runs on one host, never the sha256', async () => {
    const a = await runCli(['apply', spec, '--root', root, '--yes'], { env });
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    const credFile = path.join(root, 'etc/reconcile/credentials/mnt-share');
    const content = readFileSync(credFile);
    expect(content.toString()).toContain(PASSWORD);
    const keyFile = path.join(root, 'var/lib/reconcile/digest.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(keyFile).size).toBe(32);

    const digestsOf = async () => {
      const f = await runCli(['facts', spec, '--root', root], { env });
      expect(f.exitCode).toBe(0);
      expect(f.stdout).not.toContain(sha256(content));
      const calls = JSON.parse(f.stdout).calls as Record<string, { value: { hmac: string } }>;
      return calls['fileFacts ["/etc/reconcile/credentials/mnt-share"]']!.value.hmac;
    };
    const key = readFileSync(keyFile);
    const first = await digestsOf();
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(first).not.toBe(sha256(content));
    expect(await digestsOf()).toBe(first); // the same key on the next run
    expect(readFileSync(keyFile)).toEqual(key); // made once, never rewritten

    // The keyed digest still proves convergence, and a saved plan carries no plain digest either.
    const out = path.join(dir, 'plan.json');
    const p = await runCli(['plan', spec, '--root', root, '--out', out], { env });
    expect(p.exitCode).toBe(0);
    const saved = readFileSync(out, 'utf8');
    expect(saved).not.toContain(sha256(content));
    expect(saved).not.toContain(PASSWORD);

    // A changed file is seen (and rewritten), a plan from facts compares mode and owner only.
    writeFileSync(credFile, 'username=bob\npassword=other\n', { mode: 0o600 });
    const drift = await runCli(['plan', spec, '--root', root], { env });
    expect(drift.exitCode).toBe(2);
    expect(drift.stdout).toContain('write credentials file');
  });

  it('a plan writes no key (a key of its run only); apply and a plan saved for apply make it', async () => {
    const keyFile = path.join(root, 'var/lib/reconcile/digest.key');
    const credFile = path.join(root, 'etc/reconcile/credentials/mnt-share');
    mkdirSync(path.dirname(credFile), { recursive: true });
    writeFileSync(credFile, 'username=bob\npassword=by-hand\n', { mode: 0o600 });
    const p = await runCli(['plan', spec, '--root', root], { env });
    expect(p.exitCode).toBe(2);
    expect(existsSync(keyFile)).toBe(false);
    const out = path.join(dir, 'plan.json');
    expect((await runCli(['plan', spec, '--root', root, '--out', out], { env })).exitCode).toBe(2);
    expect(statSync(keyFile).size).toBe(32);
    const a = await runCli(['apply', out, '--root', root, '--yes'], { env });
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
  });
});
