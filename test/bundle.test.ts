/**
 * bin/reconcile runs the bundle of dist/ (scripts/bundle.mjs): what a converged plan loads is one
 * chunk, not some 40 modules each read and compiled on its own. These tests hold both halves of
 * that: the converged plan really loads the bundle only, and a bundle older than the modules it was
 * made from (a bare `tsc` after a build) is never what runs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BIN, runCli } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The files of ours a command loads, as Node's ESM loader reports them (NODE_DEBUG=esm). */
function loadedFiles(stderr: string): string[] {
  return [...new Set([...stderr.matchAll(/Storing (file:\/\/\S+)/g)].map((m) => m[1]!))];
}

describe('the bundle bin/reconcile runs', () => {
  it('a converged plan loads the entry, the startup chunk and small facades of dist/bin, and no module of dist/ on its own', async () => {
    const t = tempRoot('nfs-server');
    dirs.push(t.dir);
    const cache = mkdtempSync(path.join(tmpdir(), 'reconcile-bundle-cache-'));
    dirs.push(cache);
    const env = { XDG_CACHE_HOME: cache };
    expect((await runCli(['apply', t.spec, '--root', t.root, '--yes'], { env })).exitCode).toBe(0);
    const r = await runCli(['plan', t.spec, '--root', t.root, '--quiet'], { env: { ...env, NODE_DEBUG: 'esm' } });
    expect(r.exitCode, r.stdout).toBe(0);
    const ours = loadedFiles(r.rawStderr).filter((u) => u.includes('/dist/') || u.endsWith('/bin/reconcile'));
    // The loader's report is what this test reads: without the entry in it, it would prove nothing.
    expect(ours).toContain(`file://${BIN}`);
    const dist = ours.filter((u) => u.includes('/dist/'));
    expect(dist.filter((u) => !u.includes('/dist/bin/'))).toEqual([]);
    expect(dist.filter((u) => /\/dist\/bin\/startup-[\w-]+\.js$/.test(u))).toHaveLength(1);
    expect(dist.length).toBeLessThanOrEqual(5);
  });

  it('runs the modules of dist/ instead when the bundle is older than them, or missing', () => {
    // A copy of bin/reconcile beside stand-ins for the two entries, each saying which it is.
    const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-bundle-bin-'));
    dirs.push(dir);
    mkdirSync(path.join(dir, 'bin'));
    cpSync(BIN, path.join(dir, 'bin', 'reconcile'));
    for (const entry of ['bin', 'cli']) {
      mkdirSync(path.join(dir, 'dist', entry), { recursive: true });
      writeFileSync(path.join(dir, 'dist', entry, 'main.js'), `export async function main() { process.stdout.write('${entry}'); return 0; }\n`);
    }
    writeFileSync(path.join(dir, 'package.json'), '{"type": "module"}\n');
    const ran = () => execFileSync(process.execPath, [path.join(dir, 'bin', 'reconcile')], { encoding: 'utf8' });
    const at = (entry: string, seconds: number) => utimesSync(path.join(dir, 'dist', entry, 'main.js'), seconds, seconds);
    at('cli', 1_000_000);
    at('bin', 2_000_000);
    expect(ran()).toBe('bin');
    at('bin', 999_999);
    expect(ran()).toBe('cli');
    rmSync(path.join(dir, 'dist', 'bin'), { recursive: true });
    expect(ran()).toBe('cli');
  });
});
