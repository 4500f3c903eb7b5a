/**
 * A host's status record (DESIGN §8.5): plain data, built from what a run produced. Pure: the
 * Redis side (store.ts) adds the Redis time and the machine id's history.
 */
import { maxRisk, type ApplyReport, type Plan, type Risk } from '../../plan/types.js';
import { redact } from '../../spec/secrets.js';

export const STATUS_FORMAT_VERSION = 1;

/** What status needs of a drift report (src/drift/report.ts), said here so fleet does not import drift (drift reads specs through apply, which reads fleets). */
export interface DriftOutcome {
  ok: boolean;
  error?: string;
  spec: { git: { commit: string } | null } | null;
  drift: { address: string; risk: Risk }[];
  acknowledged: { address: string; risk: Risk }[];
}
export const RESULTS = ['converged', 'pending', 'failed', 'blocked', 'deferred', 'disabled'] as const;
export type StatusResult = (typeof RESULTS)[number];
export const MAX_PENDING_ADDRESSES = 20;
export const MAX_ERROR_CHARS = 512;

export interface Converged {
  /** Redis time (ms) of the report that found the host converged. */
  at: number;
  commit: string | null;
  specDigest: string;
}

export interface StatusRecord {
  formatVersion: number;
  host: string;
  machineId: string;
  source: 'apply' | 'drift' | 'pull';
  /** Seconds between the host's runs: staleness is 2 × interval + 5 min. */
  interval: number;
  commit: string | null;
  /** The merged spec's digest (fleet/context mergedSpecDigest): what "behind" and after: compare. */
  specDigest: string;
  result: StatusResult;
  exit: number;
  worstRisk: Risk | null;
  pending: string[];
  pendingCount: number;
  /** Unacknowledged drift found by this run (changes not acknowledged by ignoreDrift). */
  drift: number;
  error: string | null;
  lastConverged: Converged | null;
  lastFailure: { at: number; commit: string | null; error: string } | null;
  /** Roll's slot phase when a rollout is involved; null otherwise. */
  rollout: string | null;
  /** What held the host back when blocked (`after: Y`) or deferred. */
  blockedBy: string | null;
  version: string;
}

/** What a run reports; `at` and the history fields are filled in by `nextRecord`. */
export interface RunOutcome {
  source: StatusRecord['source'];
  result: StatusResult;
  exit: number;
  commit: string | null;
  pending: { address: string; risk: Risk; acknowledged?: boolean }[];
  error?: string;
  blockedBy?: string;
}

/** Errors may quote a secret and be long: stored redacted and cut. */
export function storedError(message: string): string {
  const text = redact(message);
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text;
}

export function outcomeOfApply(source: 'apply' | 'pull', report: ApplyReport): RunOutcome {
  // Waiting for a rollout slot is not a failure: nothing ran, the next run asks again (exit 2).
  if (report.deferred) {
    return {
      source,
      result: 'deferred',
      exit: 2,
      commit: report.plan.spec.git?.commit ?? null,
      pending: report.plan.changes.map((c) => ({ address: c.address, risk: c.risk, acknowledged: !!c.acknowledged })),
      blockedBy: `rollout group ${report.deferred.group}${report.deferred.position ? `, queued #${report.deferred.position}` : ''}`,
    };
  }
  const remaining = report.ok ? [] : report.remaining.length ? report.remaining : report.plan.changes;
  return {
    source,
    result: report.ok ? 'converged' : 'failed',
    exit: report.ok ? 0 : 1,
    commit: report.plan.spec.git?.commit ?? null,
    pending: remaining.map((c) => ({ address: c.address, risk: c.risk, acknowledged: !!c.acknowledged })),
    error: report.ok ? undefined : report.stoppedBecause,
  };
}

export function outcomeOfPlan(source: 'pull', plan: Plan): RunOutcome {
  return {
    source,
    result: plan.changes.length ? 'pending' : 'converged',
    exit: plan.changes.length ? 2 : 0,
    commit: plan.spec.git?.commit ?? null,
    pending: plan.changes.map((c) => ({ address: c.address, risk: c.risk, acknowledged: !!c.acknowledged })),
  };
}

export function outcomeOfDrift(report: DriftOutcome): RunOutcome {
  if (!report.ok) return { source: 'drift', result: 'failed', exit: 1, commit: report.spec?.git?.commit ?? null, pending: [], error: report.error ?? 'the drift check failed' };
  return {
    source: 'drift',
    result: report.drift.length ? 'pending' : 'converged',
    exit: report.drift.length ? 2 : 0,
    commit: report.spec?.git?.commit ?? null,
    pending: [...report.drift.map((d) => ({ address: d.address, risk: d.risk })), ...report.acknowledged.map((d) => ({ address: d.address, risk: d.risk, acknowledged: true }))],
  };
}

/** A run that ended in an error before it had a report (the spec did not load, a lock timed out). */
export function outcomeOfError(source: StatusRecord['source'], error: unknown, commit: string | null): RunOutcome {
  const blockedBy = (error as { blockedBy?: string })?.blockedBy;
  return { source, result: blockedBy ? 'blocked' : 'failed', exit: 1, commit, pending: [], error: (error as Error)?.message ?? String(error), blockedBy };
}

/**
 * The record a run writes: the outcome, plus the history carried over from the previous record
 * (last converged, last failure). `now` is the Redis time of the write, in ms.
 */
export function nextRecord(
  o: RunOutcome,
  base: { host: string; machineId: string; interval: number; specDigest: string; version: string; rollout?: string | null },
  previous: Pick<StatusRecord, 'lastConverged' | 'lastFailure'> | null,
  now: number,
): StatusRecord {
  const pending = o.pending.map((p) => p.address);
  const error = o.error === undefined ? null : storedError(o.error);
  return {
    formatVersion: STATUS_FORMAT_VERSION,
    host: base.host,
    machineId: base.machineId,
    source: o.source,
    interval: base.interval,
    commit: o.commit,
    specDigest: base.specDigest,
    result: o.result,
    exit: o.exit,
    worstRisk: o.pending.length ? maxRisk(o.pending.map((p) => p.risk)) : null,
    pending: pending.slice(0, MAX_PENDING_ADDRESSES),
    pendingCount: pending.length,
    drift: o.source === 'drift' ? o.pending.filter((p) => !p.acknowledged).length : 0,
    error,
    lastConverged: o.result === 'converged' ? { at: now, commit: o.commit, specDigest: base.specDigest } : (previous?.lastConverged ?? null),
    lastFailure: o.result === 'failed' || o.result === 'blocked' ? { at: now, commit: o.commit, error: error ?? o.result } : (previous?.lastFailure ?? null),
    rollout: base.rollout ?? null,
    blockedBy: o.blockedBy ?? null,
    version: base.version,
  };
}
