/**
 * `npm test` fails when any test was skipped (scripts/vitest-no-skips.mjs): run it on a throw-away
 * suite with one passing and one skipped test, with and without the developer escape.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { REPO } from './helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-no-skips-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(body: string, env: Record<string, string> = {}) {
  writeFileSync(path.join(dir, 'sample.test.mjs'), `import { it, describe } from 'vitest';\n${body}\n`);
  const r = spawnSync(process.execPath, [path.join(REPO, 'scripts/vitest-no-skips.mjs'), '--root', dir, '--config', path.join(dir, 'none.config.mjs')], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${path.join(REPO, 'node_modules/.bin')}:${process.env.PATH}`, NO_COLOR: '1', RECONCILE_TEST_ALLOW_SKIP: '', ...env },
    timeout: 60_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

it('passes when every test ran, fails naming the skipped ones, and lists them under the escape', () => {
  writeFileSync(path.join(dir, 'none.config.mjs'), 'export default {};\n');
  expect(run(`it('runs', () => {});`).status).toBe(0);

  const skipped = `it('runs', () => {});\nit.skip('is skipped', () => {});\ndescribe.skip('a suite', () => { it('inside', () => {}); });\nit.todo('later');`;
  const strict = run(skipped);
  expect(strict.status).toBe(1);
  expect(strict.out).toContain('3 test(s) did not run');
  expect(strict.out).toMatch(/sample\.test\.mjs: is skipped \(skipped\)/);
  expect(strict.out).toMatch(/sample\.test\.mjs: a suite inside \(skipped\)/);
  expect(strict.out).toMatch(/sample\.test\.mjs: later \(todo\)/);

  const allowed = run(skipped, { RECONCILE_TEST_ALLOW_SKIP: '1' });
  expect(allowed.status).toBe(0);
  expect(allowed.out).toContain('allowed by RECONCILE_TEST_ALLOW_SKIP=1');

  expect(run(`it('fails', () => { throw new Error('x'); });`).status).toBe(1);
}, 120_000);
