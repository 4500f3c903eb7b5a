/**
 * The self-contained artifact for hosts without Node.js 20: `npm run package:deb` builds a .deb
 * that carries its runtime. Installed with dpkg on a real Debian 12 host (the systemd container,
 * booted WITHOUT this machine's node or the project bound in), it plans and applies the example.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPO } from './helpers/cli.js';
import { Container, CONTAINER_NEEDS } from './helpers/container.js';
import { describeNeeding, missing } from './helpers/prereq.js';

const NEEDS = { ...CONTAINER_NEEDS, commands: { ...CONTAINER_NEEDS.commands, 'dpkg-deb': 'dpkg' } };
const usable = missing(NEEDS).length === 0;
const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

let out: string;
let deb: string;
let c: Container;

beforeAll(async () => {
  if (!usable) return;
  out = mkdtempSync(path.join(tmpdir(), 'reconcile-deb-test-'));
  deb = execFileSync(process.execPath, [path.join(REPO, 'scripts/build-deb.mjs'), '--out', out], { encoding: 'utf8' }).trim();
  c = await Container.boot({ bindProject: false });
}, 600_000);
afterAll(async () => {
  await c?.shutdown();
  if (out) rmSync(out, { recursive: true, force: true });
}, 60_000);

describeNeeding(NEEDS, 'the .deb artifact on a Debian host without Node.js', () => {
  it('holds the launcher, the runtime and production dependencies only', () => {
    const files = execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8', maxBuffer: 64 << 20 })
      .split('\n')
      .map((l) => l.split(/\s+/)[5])
      .filter((f): f is string => !!f);
    expect(files).toContain('./usr/bin/reconcile');
    expect(files).toContain('./usr/lib/reconcile/node');
    // The command runs the bundle (scripts/bundle.mjs); the validators it loads stay beside their modules.
    expect(files).toContain('./usr/lib/reconcile/dist/bin/main.js');
    expect(files).toContain('./usr/lib/reconcile/dist/spec/schema-validator.js');
    expect(files).toContain('./usr/lib/reconcile/node_modules/yaml/package.json');
    expect(files.some((f) => f.includes('node_modules/vitest/'))).toBe(false);
    expect(files.some((f) => f.includes('node_modules/typescript/'))).toBe(false);
    expect(execFileSync('dpkg-deb', ['-f', deb, 'Package', 'Version'], { encoding: 'utf8' })).toBe(`Package: reconcile\nVersion: ${VERSION}\n`);
  });

  it('installs with dpkg where there is no node, and plans and applies the example root', async () => {
    expect((await c.exec(['sh', '-c', 'command -v node'])).exitCode).not.toBe(0);
    c.copyIn(deb, '/root/reconcile.deb');
    const install = await c.exec(['dpkg', '-i', '/root/reconcile.deb']);
    expect(install.stderr).toBe('');
    expect(install.exitCode).toBe(0);
    expect((await c.exec(['reconcile', '--version'])).stdout).toBe(`reconcile ${VERSION}\n`);

    c.copyIn(path.join(REPO, 'examples/roots/nfs-server'), '/srv/example/root');
    c.copyIn(path.join(REPO, 'examples/nfs-server.yaml'), '/srv/example/nfs-server.yaml');
    const plan = await c.exec(['reconcile', 'plan', '/srv/example/nfs-server.yaml', '--root', '/srv/example/root']);
    expect(plan.stderr).toBe('');
    expect(plan.exitCode).toBe(2);
    expect(plan.stdout).toContain('~ nfsServer  update, risk restart');
    const apply = await c.exec(['reconcile', 'apply', '/srv/example/nfs-server.yaml', '--root', '/srv/example/root', '--yes']);
    expect(apply.exitCode).toBe(0);
    expect(c.readFile('/srv/example/root/etc/default/nfs-kernel-server')).toContain('33333');
    const again = await c.exec(['reconcile', 'plan', '/srv/example/nfs-server.yaml', '--root', '/srv/example/root']);
    expect(again.exitCode).toBe(0);
  }, 180_000);
});
