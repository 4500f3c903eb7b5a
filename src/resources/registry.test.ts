/**
 * A registered kind is whole: its diff fixtures (fixtures/<kind>/<case>/), its spec checks
 * (`validate`), the risk of its changes (`risk`, with `entries`) and its keys in the schema.
 * Adding a kind without any of them fails here, not silently in review or validate.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { KIND_ENTRIES } from './registry.js';

const REPO = path.join(import.meta.dirname, '..', '..');
const schema = JSON.parse(readFileSync(path.join(REPO, 'schemas/host-spec.schema.json'), 'utf8')) as { properties: Record<string, unknown> };

describe('every registered kind', () => {
  it('has kinds', () => expect(KIND_ENTRIES.length).toBeGreaterThan(0));
  for (const entry of KIND_ENTRIES) {
    describe(entry.name, () => {
      it('has diff fixtures with cases', () => {
        const dir = path.join(REPO, 'fixtures', entry.name);
        expect(existsSync(dir), `fixtures/${entry.name}/ is missing`).toBe(true);
        const cases = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, 'spec.yaml')));
        expect(cases.length, `fixtures/${entry.name}/ has no <case>/spec.yaml`).toBeGreaterThan(0);
      });
      it('has review risk fixtures', () => {
        const dir = path.join(REPO, 'fixtures', 'review', entry.name);
        expect(existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.json')), `fixtures/review/${entry.name}/ has no case`).toBe(true);
      });
      it('has validate', async () => {
        const v = await entry.validate();
        expect(typeof v.validate).toBe('function');
      });
      it('has risk and entries', async () => {
        const r = await entry.risk();
        expect(typeof r.risk).toBe('function');
        expect(typeof r.entries).toBe('function');
      });
      it('reads keys the schema has, and is loaded', async () => {
        expect(entry.keys.length).toBeGreaterThan(0);
        for (const key of entry.keys) expect(Object.keys(schema.properties)).toContain(key);
        expect((await entry.load()).name).toBe(entry.name);
      });
    });
  }
  it('no two kinds read one key', () => {
    const keys = KIND_ENTRIES.flatMap((k) => k.keys);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
