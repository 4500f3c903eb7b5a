// Builds a self-contained Debian package of reconcile for hosts without Node.js 20 (Debian 12's
// own Node is 18): the built CLI, its production dependencies and the Node.js runtime that built
// it, under /usr/lib/reconcile, with /usr/bin/reconcile as the launcher. Nothing is downloaded: the
// dependencies come from this checkout's node_modules, chosen by package-lock.json.
//   node scripts/build-deb.mjs [--out DIR]      (npm run package:deb builds first)
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

const repo = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { out: { type: 'string' } } });
const outDir = path.resolve(values.out ?? path.join(repo, 'dist-pkg'));
const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(path.join(repo, 'package-lock.json'), 'utf8'));

if (!existsSync(path.join(repo, 'dist', 'bin', 'main.js'))) throw new Error('dist/ is missing: run npm run build first (npm run package:deb does)');
const [major] = process.versions.node.split('.').map(Number);
const engine = Number(/\d+/.exec(pkg.engines.node)[0]);
if (major < engine) throw new Error(`the runtime to carry is Node.js ${process.versions.node}, below the engine ${pkg.engines.node}`);

const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
const stage = mkdtempSync(path.join(tmpdir(), 'reconcile-deb-'));
const lib = path.join(stage, 'usr/lib/reconcile');
try {
  for (const part of ['bin', 'dist', 'schemas', 'package.json', 'LICENSE', 'README.md']) {
    // Times kept: bin/reconcile runs the bundle only while it is not older than dist/cli/main.js.
    if (existsSync(path.join(repo, part))) cpSync(path.join(repo, part), path.join(lib, part), { recursive: true, preserveTimestamps: true });
  }
  // Production dependencies only, as the lock file says; packages of types alone are never loaded.
  for (const [where, entry] of Object.entries(lock.packages)) {
    if (!where || entry.dev || entry.devOptional || /(^|\/)(@types\/|undici-types$)/.test(where)) continue;
    const from = path.join(repo, where);
    if (!existsSync(from)) {
      if (entry.optional) continue;
      throw new Error(`${where} is in package-lock.json but not installed: run npm ci`);
    }
    cpSync(from, path.join(lib, where), { recursive: true, dereference: true });
  }
  cpSync(process.execPath, path.join(lib, 'node'));
  chmodSync(path.join(lib, 'node'), 0o755);

  mkdirSync(path.join(stage, 'usr/bin'), { recursive: true });
  // The carried runtime, never whichever `node` is first on PATH.
  writeFileSync(path.join(stage, 'usr/bin/reconcile'), '#!/bin/sh\nexec /usr/lib/reconcile/node /usr/lib/reconcile/bin/reconcile "$@"\n', { mode: 0o755 });

  const installedKiB = Number(execFileSync('du', ['-sk', path.join(stage, 'usr')], { encoding: 'utf8' }).split('\t')[0]);
  mkdirSync(path.join(stage, 'DEBIAN'));
  writeFileSync(
    path.join(stage, 'DEBIAN/control'),
    [
      'Package: reconcile',
      `Version: ${pkg.version}`,
      `Architecture: ${arch}`,
      'Maintainer: reconcile maintainers <reconcile@localhost>',
      'Section: admin',
      'Priority: optional',
      // What the carried node binary links against (ldd): glibc and the C++ runtime.
      'Depends: libc6 (>= 2.28), libstdc++6 (>= 8), libgcc-s1',
      'Recommends: git, util-linux, mount, systemd, procps',
      `Installed-Size: ${installedKiB}`,
      `Description: ${pkg.description}`,
      ` Carries its own Node.js ${process.versions.node} runtime under /usr/lib/reconcile.`,
      '',
    ].join('\n'),
  );
  mkdirSync(outDir, { recursive: true });
  const deb = path.join(outDir, `reconcile_${pkg.version}_${arch}.deb`);
  // gzip: a third of xz's build time for a few more megabytes.
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', stage, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
  process.stdout.write(`${deb}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
