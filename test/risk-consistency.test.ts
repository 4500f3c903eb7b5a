/**
 * One risk per change: for every change a kind plans in its diff fixtures, the change's risk is
 * what the kind's `risk` (the function review uses) says for (the observed state as an entry, the
 * spec's entry), with the context only the host gives. Where the context is empty, that is
 * exactly review's call. Every kind gives `observedEntry`.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseSpec } from '../src/spec/load.js';
import { KIND_ENTRIES } from '../src/resources/registry.js';
import type { Change } from '../src/plan/types.js';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures');

describe('plan and review give one risk per change', () => {
  for (const entry of KIND_ENTRIES) {
    it(`${entry.name}: the kind judges its plan's changes with its review risk`, async () => {
      const r = await entry.risk();
      expect(typeof r.observedEntry).toBe('function');
      const dir = path.join(FIXTURES, entry.name);
      let checked = 0;
      for (const name of readdirSync(dir)) {
        const caseDir = path.join(dir, name);
        if (!existsSync(path.join(caseDir, 'changes.json'))) continue;
        const read = (f: string) => readFileSync(path.join(caseDir, f), 'utf8');
        const spec = parseSpec(read('spec.yaml'), 'spec.yaml').spec.value;
        const observed = JSON.parse(read('observed.json'));
        const desired = new Map(r.entries(spec));
        for (const change of JSON.parse(read('changes.json')) as Change[]) {
          // A change below an entry (migrations[app]/0002_x) or of a part of it (postgres.settings[x]) is a change of that entry.
          const want = desired.get(change.address) ?? desired.get(change.address.replace(/\/.*$/, '')) ?? desired.get(change.address.replace(/\..*$/, ''));
          const { entry: before, context } = r.observedEntry!(observed, change.address, want, existsSync(path.join(caseDir, 'offline')));
          expect(r.risk(before, want, context).risk, `${entry.name}/${name} ${change.address}`).toBe(change.risk);
          checked++;
        }
      }
      expect(checked, `fixtures/${entry.name} plans no change to compare`).toBeGreaterThan(0);
    });
  }
});
