/**
 * Checks between hosts (DESIGN §8.3): fixtures/fleet-checks/<case>/ is a fleet; `reconcile
 * validate --fleet` run in it must print exactly expected.txt (stderr, then exit=N). A case named
 * *-ok passes (exit 0); every other case trips a check (exit 1) and names both hosts' files.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';

const DIR = path.join(import.meta.dirname, '..', 'fixtures', 'fleet-checks');
const cases = readdirSync(DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

describe('checks between hosts', () => {
  it('has a passing and a tripping case for NFS, PostgreSQL and migrations', () => {
    for (const kind of ['nfs', 'postgres', 'migrations']) {
      expect(cases).toContain(`${kind}-ok`);
      expect(cases.filter((c) => c.startsWith(`${kind}-`) && !c.endsWith('-ok')).length).toBeGreaterThan(0);
    }
  });
  for (const name of cases) {
    it(name, async () => {
      const caseDir = path.join(DIR, name);
      const r = await runCli(['validate', '--fleet'], { cwd: caseDir });
      expect(`${r.stderr}exit=${r.exitCode}\n`).toBe(readFileSync(path.join(caseDir, 'expected.txt'), 'utf8'));
      expect(r.exitCode).toBe(name.endsWith('-ok') ? 0 : 1);
      if (!name.endsWith('-ok')) expect(r.stderr).toMatch(/\(hosts\/\w+\.yaml(:\d+:\d+)?[;)]/);
    });
  }
});
