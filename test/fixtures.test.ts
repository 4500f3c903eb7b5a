/**
 * Diff fixtures: fixtures/<kind>/<case>/{spec.yaml, observed.json, changes.json} run through the
 * kind's pure diff. Every spec.yaml passes the full check first (schema and every kind's rules):
 * a diff is never tested on a spec that validate would refuse. Optional inputs: owned.json
 * (addresses where reconcile created something before), created.json (what it created there, by
 * address), secrets.json (resolved references by refKey), an empty file `offline` (plan under
 * --root). The rest of the diff's output is pinned too: warnings.json, managed.json, locks.json and
 * files.json (the one diff of each shared file)
 * must match when present, and absent means empty. Discovered from folder names: a folder that
 * runs no test fails. UPDATE_FIXTURES=1 rewrites the expected files (review the diff).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { check } from '../src/resources/check.js';
import { formatDiagnostic } from '../src/errors.js';
import { loadKinds } from '../src/resources/registry.js';
import { hmacHex } from '../src/host/digest.js';

const FIXTURE_DIGEST_KEY = Buffer.from('reconcile fixture digest key');

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures');
/** Folders of fixtures that are not diff pairs; each has its own discovering test. */
const OTHER_FIXTURES = new Set(['invalid-specs', 'review', 'fleet-checks', 'corpus']);

const KINDS = await loadKinds();

const kindDirs = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !OTHER_FIXTURES.has(d.name))
  .map((d) => d.name);

it('finds diff fixtures for every kind', () => {
  expect(kindDirs.length).toBeGreaterThan(0);
  for (const name of kindDirs) expect(KINDS.map((k) => k.name), `fixtures/${name} names no kind`).toContain(name);
});

for (const kindName of kindDirs) {
  const kind = KINDS.find((k) => k.name === kindName);
  const dir = path.join(FIXTURES, kindName);
  const cases = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  describe(`fixtures/${kindName}`, () => {
    it('has cases', () => expect(cases.length).toBeGreaterThan(0));
    for (const name of cases) {
      it(name, async () => {
        const caseDir = path.join(dir, name);
        const read = (f: string) => readFileSync(path.join(caseDir, f), 'utf8');
        const has = (f: string) => existsSync(path.join(caseDir, f));
        expect(has('spec.yaml') && has('observed.json'), `${caseDir} needs spec.yaml and observed.json`).toBe(true);
        const { spec, diagnostics } = await check(read('spec.yaml'), 'spec.yaml', {});
        expect(diagnostics.map(formatDiagnostic), 'the fixture spec must be valid').toEqual([]);
        const run = () =>
          kind!.diff({
            spec: spec.value,
            observed: JSON.parse(read('observed.json')),
            owned: has('owned.json') ? JSON.parse(read('owned.json')) : [],
            ...(has('created.json') ? { created: JSON.parse(read('created.json')) } : {}),
            offline: has('offline'),
            secrets: new Map(Object.entries(has('secrets.json') ? JSON.parse(read('secrets.json')) : {})),
            // Observed digests of secrets in fixtures are HMACs under this key, as a host's are under its own.
            digest: (data: string) => hmacHex(FIXTURE_DIGEST_KEY, data),
          });
        if (has('error.txt')) {
          expect(run).toThrow(read('error.txt').trim());
          return;
        }
        const out = JSON.parse(JSON.stringify(run())) as ReturnType<typeof run>;
        if (process.env.UPDATE_FIXTURES) {
          writeFileSync(path.join(caseDir, 'changes.json'), `${JSON.stringify(out.changes, null, 2)}\n`);
          for (const [file, value] of Object.entries(pinned(out))) {
            if (value.length) writeFileSync(path.join(caseDir, file), `${JSON.stringify(value, null, 2)}\n`);
            else rmSync(path.join(caseDir, file), { force: true });
          }
        }
        expect(has('changes.json'), `${caseDir} needs changes.json (or error.txt)`).toBe(true);
        expect(out.changes).toEqual(JSON.parse(read('changes.json')));
        for (const [file, value] of Object.entries(pinned(out))) {
          expect(value, `${file} of ${caseDir}`).toEqual(has(file) ? JSON.parse(read(file)) : []);
        }
      });
    }
  });
}

/** The diff's output beside its changes, each in its own file; absent and empty are the same. */
function pinned(out: { warnings?: string[]; managed: string[]; locks?: unknown[]; files?: unknown[] }): Record<string, unknown[]> {
  return { 'warnings.json': out.warnings ?? [], 'managed.json': out.managed, 'locks.json': out.locks ?? [], 'files.json': out.files ?? [] };
}
