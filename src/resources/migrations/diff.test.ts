import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseSpec } from '../../spec/load.js';
import { diffMigrations } from './diff.js';

// Changes are covered by fixtures/migrations; these are the findings that are not changes.
const FIXTURES = path.join(import.meta.dirname, '..', '..', '..', 'fixtures', 'migrations');

function run(name: string) {
  const read = (f: string) => readFileSync(path.join(FIXTURES, name, f), 'utf8');
  const { spec } = parseSpec(read('spec.yaml'), 'spec.yaml');
  return diffMigrations({ spec: spec.value, observed: JSON.parse(read('observed.json')), owned: [], offline: true, secrets: new Map() });
}

describe('migrations diff', () => {
  it('skips a standby host with a note, and still manages and digests the entry', () => {
    const out = run('standby-host-skipped');
    expect(out.changes).toEqual([]);
    expect(out.warnings).toEqual(['migrations[app]: skipped on this host: postgres.role is standby, which is read-only; migrations run on the primary']);
    expect(out.managed).toEqual(['migrations[app]']);
    expect(Object.keys(out.observedByAddress)).toEqual(['migrations[app]']);
  });
  it('skips a database in recovery with a note', () => {
    const out = run('database-in-recovery-skipped');
    expect(out.changes).toEqual([]);
    expect(out.warnings?.[0]).toContain('the database is in recovery');
  });
  it('runs every op of an entry in one step, shared by its changes', () => {
    const out = run('stamp-adopts-hand-migrated');
    const ids = new Set(out.changes.flatMap((c) => c.steps.map((s) => JSON.stringify(s))));
    expect(ids.size).toBe(1);
    const args = out.changes[0]!.steps[0]!.args as { ops: { op: string; version: string }[]; commit: string };
    expect(args.ops.map((o) => `${o.op} ${o.version}`)).toEqual(['stamp 20240101000000', 'stamp 20240102000000', 'up 20240103000000']);
    expect(args.commit).toBe('0123456789abcdef0123456789abcdef01234567');
  });
});
