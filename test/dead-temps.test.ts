/**
 * A killed apply leaves its temp file (`.exports.reconcile-PID-RANDOM`) beside the file it was
 * replacing; the next apply that writes in that directory removes it, unless PID is a running
 * reconcile.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';

let t: ReturnType<typeof tempRoot>;
const children: ChildProcess[] = [];
beforeEach(() => {
  t = tempRoot();
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  t.cleanup();
});

function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

describe('temp files of a dead apply', () => {
  it('are removed by the next apply in their directory; a running reconcile\'s and unrelated files are kept', async () => {
    // A live process whose command line says reconcile (a concurrent apply), and one that does not (a reused PID).
    const live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'reconcile-apply'], { stdio: 'ignore' });
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(live, other);
    await new Promise((r) => setTimeout(r, 200));
    const etc = path.join(t.root, 'etc');
    const dead = `.exports.reconcile-${deadPid()}-0badc0de`;
    const reused = `.fstab.reconcile-${other.pid}-12345678`;
    const running = `.exports.reconcile-${live.pid}-abcdef01`;
    const unrelated = '.exports.reconcile-notapid-xx';
    for (const n of [dead, reused, running, unrelated]) writeFileSync(path.join(etc, n), 'partial');
    const a = await runCli(['apply', t.spec, '--root', t.root, '--yes']);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    const left = readdirSync(etc);
    expect(left).not.toContain(dead);
    expect(left).not.toContain(reused);
    expect(left).toContain(running);
    expect(left).toContain(unrelated);
  });
});
