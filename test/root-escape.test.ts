/**
 * The CLI under a --root whose directories are links that lead out of it: plan and apply refuse
 * with a message naming the link, and not one byte outside the root changes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';

let t: ReturnType<typeof tempRoot>;
beforeEach(() => {
  t = tempRoot();
});
afterEach(() => t.cleanup());

function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = statSync(p);
      out.push(`${path.relative(dir, p)} ${st.mode.toString(8)} ${st.uid}:${st.gid}${e.isFile() ? ` ${readFileSync(p, 'base64')}` : ''}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

describe('a --root with links that lead out of it', () => {
  it('refuses plan and apply when /etc is ../outside-etc, and changes nothing outside', async () => {
    const outside = path.join(t.dir, 'outside-etc');
    renameSync(path.join(t.root, 'etc'), outside);
    symlinkSync('../outside-etc', path.join(t.root, 'etc'));
    const before = snapshot(outside);
    const p = await runCli(['plan', t.spec, '--root', t.root]);
    expect(p.exitCode).toBe(1);
    expect(p.stderr).toMatch(/\/etc under the root .* is a symlink to \.\.\/outside-etc, which leads out of the root/);
    expect(p.stderr).not.toMatch(/\n\s+at /); // no stack
    const a = await runCli(['apply', t.spec, '--root', t.root, '--yes']);
    expect(a.exitCode).toBe(1);
    expect(a.stderr).toMatch(/\/etc under the root .* leads out of the root/);
    expect(snapshot(outside)).toEqual(before);
  });

  it('refuses the directory of an export behind an escaping link, and the state directory too', async () => {
    const outside = path.join(t.dir, 'outside');
    mkdirSync(outside);
    cpSync(path.join(t.root, 'etc'), path.join(outside, 'etc-copy'), { recursive: true, verbatimSymlinks: true });
    symlinkSync('../outside', path.join(t.root, 'data'));
    mkdirSync(path.join(t.root, 'var/lib'), { recursive: true });
    symlinkSync('../../../outside', path.join(t.root, 'var/lib/reconcile'));
    const before = snapshot(outside);
    const a = await runCli(['apply', t.spec, '--root', t.root, '--yes']);
    expect(a.exitCode).toBe(1);
    expect(a.stdout + a.stderr).toMatch(/\/(data|var\/lib\/reconcile) under the root .* leads out of the root/);
    expect(snapshot(outside)).toEqual(before);
  });
});
