import { describe, expect, it } from 'vitest';
import { targetPlan } from './target.js';
import type { Change, Plan, Step } from './types.js';

const step = (id: string, after?: string[]): Step => ({ id, op: 'exec', title: id, args: { argv: ['true'] }, ...(after ? { after } : {}) });
const change = (address: string, steps: Step[]): Change => ({ address, kind: 'postgres', action: 'update', risk: 'reload', summary: address, diff: '', steps });

function plan(changes: Change[]): Plan {
  const digests = Object.fromEntries([...changes.map((c) => c.address), 'units[quiet.service]'].map((a) => [a, 'x']));
  return { formatVersion: 2, tool: { name: 'reconcile', version: '0' }, host: 'h', root: '/', createdAt: '', spec: { path: 's', sha256: 'x', git: null }, changes, digests, managed: {}, warnings: [] };
}

describe('targetPlan', () => {
  const reload = step('pg:reload');
  const p = plan([
    change('postgres.settings[wal_level]', [step('pg:alter'), reload]),
    change('postgres.slots[db2]', [step('pg:slot:db2', ['pg:reload', 'file:*'])]),
    change('units[kafka.service]', [step('file:/etc/systemd/system/kafka.service'), step('exec:systemctl daemon-reload', ['file:*'])]),
    change('units[kafka.service].dropins[10.conf]', [step('file:/etc/systemd/system/kafka.service.d/10.conf')]),
  ]);

  it('keeps only the targeted changes, a resource with what is inside it, and says the plan is partial', () => {
    const t = targetPlan(p, ['units[kafka.service]']);
    expect(t.changes.map((c) => c.address)).toEqual(['units[kafka.service]', 'units[kafka.service].dropins[10.conf]']);
    expect(Object.keys(t.digests)).toEqual(['units[kafka.service]', 'units[kafka.service].dropins[10.conf]']);
    expect(t.targets).toEqual(['units[kafka.service]']);
    expect(t.warnings).toEqual(['--target units[kafka.service]: the plan is partial: 2 of 4 changes; the rest stay pending']);
  });

  it('warns, naming both, when a target runs after a step of a change left out (wildcards are order, not dependencies)', () => {
    const t = targetPlan(p, ['postgres.slots[db2]']);
    expect(t.warnings).toContain('--target: "pg:slot:db2" (postgres.slots[db2]) runs after "pg:reload" of postgres.settings[wal_level], which is left out');
    expect(t.warnings).toHaveLength(2);
    // Both targeted: nothing is left out.
    expect(targetPlan(p, ['postgres.slots[db2]', 'postgres.settings[wal_level]']).warnings).toHaveLength(1);
  });

  it('an in-sync resource is a valid target with no changes', () => {
    expect(targetPlan(p, ['units[quiet.service]']).changes).toEqual([]);
  });

  it('refuses an unknown address, with the nearest as did-you-mean, for hostile input too', () => {
    expect(() => targetPlan(p, ['units[kafka.servce]'])).toThrow('--target units[kafka.servce]: no such resource in this plan (did you mean units[kafka.service]?)');
    for (const bad of ['', 'units[', '../../etc/passwd', 'units[kafka.service]x', '*', 'a'.repeat(5000), 'postgres.settings[wal_level]\n']) {
      expect(() => targetPlan(p, [bad]), JSON.stringify(bad)).toThrow(/no such resource in this plan/);
    }
  });
});
