/**
 * One fixture per case under fixtures/review/<kind>/<case>.json: {kind, old, new, risk, reason?}, where
 * old or new null means the entry is absent on that side. Discovered; an empty set fails.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { reviewSpecs } from './risk.js';
import type { HostSpec } from '../spec/types.js';

const DIR = path.join(import.meta.dirname, '..', '..', 'fixtures', 'review');
const cases = readdirSync(DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json')).sort();

const SECTION: Record<string, (v: unknown) => Partial<HostSpec>> = {
  units: (v) => ({ units: [v as never] }),
  mounts: (v) => ({ mounts: [v as never] }),
  exports: (v) => ({ exports: [v as never] }),
  migrations: (v) => ({ migrations: [v as never] }),
  nfsServer: (v) => ({ nfsServer: v as never }),
  timezone: (v) => ({ timezone: v as never }),
  postgres: (v) => ({ postgres: v as never }),
};

describe('review risk fixtures', () => {
  it('has fixtures', () => expect(cases.length).toBeGreaterThan(10));
  it.each(cases)("%s", async (file) => {
    const f = JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as { kind: string; old: unknown; new: unknown; risk: string; reason?: string };
    const spec = (v: unknown): HostSpec => ({ host: 'h', ...(v === null ? {} : SECTION[f.kind]!(v)) });
    const changes = await reviewSpecs(spec(f.old), spec(f.new));
    expect(changes).toHaveLength(1);
    expect(changes[0]!.kind).toBe(f.kind);
    expect(changes[0]!.change).toBe(f.old === null ? 'added' : f.new === null ? 'removed' : 'changed');
    expect(changes[0]!.risk).toBe(f.risk);
    if (f.reason) expect(changes[0]!.reasons.join('; ')).toContain(f.reason);
  });
  it("an unchanged spec has no changes", async () => {
    const s: HostSpec = { host: 'h', timezone: 'UTC', mounts: [{ path: '/m', source: 'a:/b', type: 'nfs' } as never] };
    expect(await reviewSpecs(s, structuredClone(s))).toEqual([]);
  });
});
