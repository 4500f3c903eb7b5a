import { describeGit, type Plan, type Risk, type SpecRef } from '../plan/types.js';
import { redact } from '../spec/secrets.js';
import type { Style } from '../render/style.js';

/** The drift report is versioned data like the Plan; text, JSON and Prometheus forms read only it. */
export const DRIFT_FORMAT_VERSION = 1;

export interface DriftItem {
  address: string;
  kind: string;
  action: string;
  risk: Risk;
  summary: string;
}

export interface DriftReport {
  formatVersion: number;
  kind: 'reconcile-drift';
  host: string;
  root: string;
  checkedAt: string;
  durationMs: number;
  /** False when the check itself failed (the spec did not load, the host could not be read). */
  ok: boolean;
  error?: string;
  /** The spec checked, with its git commit and dirty flag; null when it could not be loaded. */
  spec: SpecRef | null;
  drift: DriftItem[];
  /** Drift the spec's ignoreDrift acknowledges until a date: reported, not counted. */
  acknowledged: (DriftItem & { until: string; reason: string })[];
  warnings: string[];
  /** Every kind checked, so a metric per kind can say 0 rather than vanish. */
  kinds: string[];
}

const item = (c: Plan['changes'][number]): DriftItem => ({ address: c.address, kind: c.kind, action: c.action, risk: c.risk, summary: c.summary });

export function reportFromPlan(plan: Plan, kinds: string[], startedMs: number, finishedMs: number): DriftReport {
  return {
    formatVersion: DRIFT_FORMAT_VERSION,
    kind: 'reconcile-drift',
    host: plan.host,
    root: plan.root,
    checkedAt: new Date(finishedMs).toISOString(),
    durationMs: Math.max(0, Math.round(finishedMs - startedMs)),
    ok: true,
    spec: plan.spec,
    drift: plan.changes.filter((c) => !c.acknowledged).map(item),
    acknowledged: plan.changes.filter((c) => c.acknowledged).map((c) => ({ ...item(c), ...c.acknowledged! })),
    warnings: plan.warnings,
    kinds,
  };
}

export function failedReport(host: string, root: string, error: string, kinds: string[], startedMs: number, finishedMs: number): DriftReport {
  return {
    formatVersion: DRIFT_FORMAT_VERSION,
    kind: 'reconcile-drift',
    host,
    root,
    checkedAt: new Date(finishedMs).toISOString(),
    durationMs: Math.max(0, Math.round(finishedMs - startedMs)),
    ok: false,
    error,
    spec: null,
    drift: [],
    acknowledged: [],
    warnings: [],
    kinds,
  };
}

/** The contract's codes: 0 no drift · 2 drift · 1 the check failed. */
export function driftExitCode(r: DriftReport): number {
  return !r.ok ? 1 : r.drift.length ? 2 : 0;
}

function gitText(spec: SpecRef | null): string {
  if (!spec?.git) return '';
  return ` (spec at git ${describeGit(spec.git)})`;
}

export function renderDriftText(r: DriftReport, style: Style): string {
  const out: string[] = [];
  if (!r.ok) {
    out.push(style.red(`${r.checkedAt} ${r.host}: drift check failed: ${r.error ?? 'unknown error'}`));
    return redact(out.join('\n') + '\n');
  }
  for (const w of r.warnings) out.push(style.yellow(w));
  const n = r.drift.length;
  const ack = r.acknowledged.length ? `, ${r.acknowledged.length} acknowledged` : '';
  out.push(`${r.checkedAt} ${r.host}: ${n ? style.bold(`drift: ${n} change${n === 1 ? '' : 's'}`) : 'no drift'}${ack}${gitText(r.spec)} in ${r.durationMs} ms`);
  for (const d of r.drift) out.push(`  ${d.address}  ${d.action}, risk ${d.risk}: ${d.summary}`);
  for (const d of r.acknowledged) out.push(style.dim(`  ${d.address}  acknowledged until ${d.until}: ${d.reason}`));
  return redact(out.join('\n') + '\n');
}

export function renderDriftJson(r: DriftReport, options: { compact?: boolean } = {}): string {
  return redact(JSON.stringify(r, null, options.compact ? undefined : 2)) + '\n';
}

/** Prometheus text exposition format, for node_exporter's textfile collector. */
export function renderDriftProm(r: DriftReport): string {
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  const out: string[] = [];
  const metric = (name: string, help: string, lines: string[]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...lines);
  };
  if (r.ok) {
    // A failed check has no counts: a stale 0 would read as "no drift".
    const perKind = (items: DriftItem[]) => r.kinds.map((k) => `{host="${esc(r.host)}",kind="${esc(k)}"} ${items.filter((d) => d.kind === k).length}`);
    metric('reconcile_drift_changes', 'Changes between the spec and the host, by kind (acknowledged drift not counted).', perKind(r.drift).map((l) => `reconcile_drift_changes${l}`));
    metric('reconcile_drift_acknowledged_changes', 'Drift acknowledged by the spec\'s ignoreDrift, by kind.', perKind(r.acknowledged).map((l) => `reconcile_drift_acknowledged_changes${l}`));
  }
  metric('reconcile_drift_check_success', 'Whether the last drift check ran to the end (1) or failed (0).', [`reconcile_drift_check_success ${r.ok ? 1 : 0}`]);
  metric('reconcile_drift_last_check_timestamp_seconds', 'When the last drift check finished, in seconds since the epoch.', [`reconcile_drift_last_check_timestamp_seconds ${Date.parse(r.checkedAt) / 1000}`]);
  metric('reconcile_drift_check_duration_seconds', 'How long the last drift check took.', [`reconcile_drift_check_duration_seconds ${r.durationMs / 1000}`]);
  return out.join('\n') + '\n';
}
