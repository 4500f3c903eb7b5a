/**
 * Apply as it runs: one line per step start and end for a log (stderr that is not a terminal), and
 * the `apply --format json` event stream (one JSON object per line, schemas/apply-events.schema.json,
 * modelled on Terraform's `-json`). Events name steps and changes by title and address and never
 * carry step arguments (file bytes) or resolved secrets.
 */
import type { Diagnostic } from '../errors.js';
import type { LockWait } from '../locks/types.js';
import { ACTIONS, maxRisk, type ApplyReport, type Plan, type Step, type StepResult, type StepStatus } from '../plan/types.js';
import { redact } from '../spec/secrets.js';
import { VERSION } from '../version.js';

/** Bump on any incompatible change of an event's shape. */
export const APPLY_EVENTS_FORMAT_VERSION = 1;

export type StepProgress = { index: number; total: number; step: Step; result?: StepResult };

/** "1m5s", "12s", "340 ms": how long, to a person. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
}

/** One line of a log: "[2/5] started: write /etc/fstab" / "[2/5] done in 12 ms: write /etc/fstab". */
export function stepLine({ index, total, step, result }: StepProgress): string {
  const at = `[${index + 1}/${total}]`;
  if (!result) return `reconcile apply: ${at} started: ${step.title}\n`;
  const error = result.error ? `: ${redact(result.error.split('\n')[0]!)}` : '';
  return `reconcile apply: ${at} ${result.status} in ${formatMs(result.durationMs)}: ${step.title}${error}\n`;
}

/** "waiting for the lock: lock file F is held by web1 (pid 42, plan 3f2a9c, since T); waited 10s, giving up in 50s". */
export function lockWaitLine(command: string, w: LockWait): string {
  const left = Math.max(0, w.timeoutMs - w.waitedMs);
  return `reconcile ${command}: waiting for the lock: ${redact(w.held)}; waited ${formatMs(w.waitedMs)}, giving up in ${formatMs(left)} (--lock-timeout)\n`;
}

type Event = Record<string, unknown> & { type: string };

/** The JSON event stream: each event one line, with formatVersion, type and timestamp. */
export class ApplyEvents {
  constructor(private readonly write: (line: string) => void) {}

  private emit(event: Event): void {
    this.write(`${redact(JSON.stringify({ formatVersion: APPLY_EVENTS_FORMAT_VERSION, timestamp: new Date().toISOString(), ...event }))}\n`);
  }

  version(): void {
    this.emit({ type: 'version', reconcile: VERSION });
  }

  lockWait(w: LockWait): void {
    const h = w.holder;
    this.emit({
      type: 'lock_wait',
      message: w.held,
      holder: h ? { host: h.host, pid: h.pid, ...(h.plan !== undefined ? { plan: h.plan } : {}), since: h.since } : null,
      waitedMs: w.waitedMs,
      timeoutMs: w.timeoutMs,
    });
  }

  /** What is about to run, counted by action, with the worst risk (Terraform's "planned changes" summary). */
  changeSummary(plan: Plan): void {
    const counts = Object.fromEntries(ACTIONS.map((a) => [a, plan.changes.filter((c) => c.action === a).length]));
    this.emit({
      type: 'change_summary',
      host: plan.host,
      changes: counts,
      total: plan.changes.length,
      worstRisk: maxRisk(plan.changes.map((c) => c.risk)),
      addresses: plan.changes.map((c) => c.address),
    });
  }

  step(p: StepProgress): void {
    const base = { index: p.index, total: p.total, id: p.step.id, title: p.step.title };
    if (!p.result) return this.emit({ type: 'step_start', ...base });
    const r = p.result;
    this.emit({
      type: 'step_end',
      ...base,
      addresses: r.addresses,
      status: r.status,
      durationMs: r.durationMs,
      ...(r.detail !== undefined ? { detail: r.detail } : {}),
      ...(r.error !== undefined ? { error: r.error } : {}),
    });
  }

  diagnostic(d: Pick<Diagnostic, 'message' | 'severity'> & Partial<Diagnostic>): void {
    this.emit({ type: 'diagnostic', severity: d.severity, message: d.message, ...(d.file !== undefined ? { file: d.file, line: d.line, col: d.col } : {}) });
  }

  /** The last event: the report's headline, never its file bytes. */
  done(report: ApplyReport | undefined, error?: string): void {
    const counts: Partial<Record<StepStatus, number>> = {};
    for (const r of report?.results ?? []) counts[r.status] = (counts[r.status] ?? 0) + 1;
    const ok = !!report?.ok && error === undefined;
    const headline = report
      ? report.ok
        ? report.results.length
          ? `${report.plan.host}: converged`
          : `${report.plan.host}: in sync, nothing to do`
        : report.deferred
          ? `${report.plan.host}: ${report.stoppedBecause ?? 'deferred'}`
          : `${report.plan.host}: not converged: ${report.stoppedBecause ?? 'the host still differs from the spec'}`
      : `apply failed: ${error ?? 'unknown error'}`;
    this.emit({
      type: 'apply_done',
      ok,
      headline,
      host: report?.plan.host ?? null,
      counts,
      ...(report?.stoppedBecause !== undefined ? { stoppedBecause: report.stoppedBecause } : {}),
      ...(report?.deferred !== undefined ? { deferred: report.deferred } : {}),
      remaining: (report?.remaining ?? []).map((c) => c.address),
      ...(report?.journal !== undefined ? { journal: report.journal } : {}),
      ...(report?.lockToken !== undefined ? { lockToken: report.lockToken } : {}),
    });
  }
}
