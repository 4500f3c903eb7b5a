import { describe, expect, it } from 'vitest';
import { outcomeOfApply } from './record.js';
import type { ApplyReport, Plan } from '../../plan/types.js';

const plan = { spec: { path: 'h.yaml', sha256: 'x', git: { commit: 'c0ffee', dirty: false } }, changes: [{ address: 'units[a.service]', risk: 'restart' }] } as unknown as Plan;

describe('outcomeOfApply', () => {
  it('records a deferred apply as deferred (exit 2) with what it waits for, not as a failure', () => {
    const report: ApplyReport = { plan, results: [], remaining: plan.changes, ok: false, stoppedBecause: 'deferred, queued #3', deferred: { group: 'web', position: 3, why: 'the group is full' } };
    expect(outcomeOfApply('pull', report)).toMatchObject({ result: 'deferred', exit: 2, commit: 'c0ffee', blockedBy: 'rollout group web, queued #3', pending: [{ address: 'units[a.service]', risk: 'restart' }] });
  });
  it('records a failed apply as failed with its reason', () => {
    const report: ApplyReport = { plan, results: [], remaining: plan.changes, ok: false, stoppedBecause: 'step "x" failed' };
    expect(outcomeOfApply('apply', report)).toMatchObject({ result: 'failed', exit: 1, error: 'step "x" failed' });
  });
});
