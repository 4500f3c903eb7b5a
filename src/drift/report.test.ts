import { describe, expect, it } from 'vitest';
import { failedReport, renderDriftProm, reportFromPlan, driftExitCode } from './report.js';
import type { Plan } from '../plan/types.js';

const plan: Plan = {
  formatVersion: 1,
  tool: { name: 'reconcile', version: 't' },
  host: 'db"1',
  root: '/',
  createdAt: '',
  spec: { path: 's.yaml', sha256: 'x', git: { commit: 'abc', dirty: true, state: 'modified' } },
  changes: [
    { address: 'exports[/a]', kind: 'exports', action: 'update', risk: 'reload', summary: '', diff: '', steps: [] },
    { address: 'timezone', kind: 'timezone', action: 'update', risk: 'none', summary: '', diff: '', steps: [], acknowledged: { until: '2030-01-01', reason: 'r' } },
  ],
  digests: {},
  managed: {},
  warnings: [],
};

describe('drift report', () => {
  it('counts acknowledged drift apart, keeps the git commit, and exits 2 on drift', () => {
    const r = reportFromPlan(plan, ['timezone', 'exports', 'mounts'], 1000, 1500);
    expect(r.drift.map((d) => d.address)).toEqual(['exports[/a]']);
    expect(r.acknowledged.map((d) => [d.address, d.until])).toEqual([['timezone', '2030-01-01']]);
    expect(r.spec?.git).toEqual({ commit: 'abc', dirty: true, state: 'modified' });
    expect(driftExitCode(r)).toBe(2);
  });

  it('renders the Prometheus text format with HELP and TYPE for every metric', () => {
    const text = renderDriftProm(reportFromPlan(plan, ['timezone', 'exports', 'mounts'], 1000, 1500));
    expect(text).toContain('reconcile_drift_changes{host="db\\"1",kind="exports"} 1\n');
    expect(text).toContain('reconcile_drift_changes{host="db\\"1",kind="mounts"} 0\n');
    expect(text).toContain('reconcile_drift_acknowledged_changes{host="db\\"1",kind="timezone"} 1\n');
    expect(text).toContain('reconcile_drift_check_success 1\n');
    expect(text).toContain('reconcile_drift_last_check_timestamp_seconds 1.5\n');
    expect(text).toContain('reconcile_drift_check_duration_seconds 0.5\n');
    for (const m of ['reconcile_drift_changes', 'reconcile_drift_check_success', 'reconcile_drift_last_check_timestamp_seconds', 'reconcile_drift_check_duration_seconds']) {
      expect(text).toContain(`# HELP ${m} `);
      expect(text).toContain(`# TYPE ${m} gauge\n`);
    }
    // Every sample line parses: name{labels} value.
    for (const l of text.split('\n').filter((l) => l && !l.startsWith('#'))) expect(l).toMatch(/^[a-z_]+(\{[^}]*\})? -?[0-9.e+]+$/);
  });

  it('a failed check says success 0 and gives no counts (a stale 0 would read as no drift)', () => {
    const r = failedReport('h', '/', 'boom', ['timezone'], 0, 10);
    expect(driftExitCode(r)).toBe(1);
    const text = renderDriftProm(r);
    expect(text).toContain('reconcile_drift_check_success 0\n');
    expect(text).not.toContain('reconcile_drift_changes{');
  });
});
