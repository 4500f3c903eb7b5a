/**
 * Malformed specs: fixtures/invalid-specs/<case>/{spec.yaml, expected.txt[, args]}. Each runs
 * `reconcile validate spec.yaml` as a user would (in the case folder) and must print exactly
 * expected.txt to stderr (FILE:LINE:COL: message), exit as its last line says, and never a stack.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';

const DIR = path.join(import.meta.dirname, '..', 'fixtures', 'invalid-specs');
const cases = readdirSync(DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

describe('invalid specs', () => {
  it('has at least a dozen cases', () => expect(cases.length).toBeGreaterThanOrEqual(12));
  for (const name of cases) {
    it(name, async () => {
      const caseDir = path.join(DIR, name);
      const expected = readFileSync(path.join(caseDir, 'expected.txt'), 'utf8');
      const args = existsSync(path.join(caseDir, 'args')) ? readFileSync(path.join(caseDir, 'args'), 'utf8').split(/\s+/).filter(Boolean) : [];
      const r = await runCli(['validate', 'spec.yaml', ...args], { cwd: caseDir });
      expect(`${r.stderr}exit=${r.exitCode}\n`).toBe(expected);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/^spec\.yaml:\d+:\d+: /);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    });
  }
});
