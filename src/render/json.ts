import type { Plan } from '../plan/types.js';
import type { ApplyReport } from '../apply/apply.js';
import { redact } from '../spec/secrets.js';
import { PLAN_FORMAT_VERSION } from '../plan/types.js';

/** The plan as stable, versioned JSON (the form `--out` saves and `apply PLANFILE` reads). */
export function renderPlanJson(plan: Plan): string {
  return redact(JSON.stringify(plan, null, 2)) + '\n';
}

export function renderApplyJson(report: ApplyReport): string {
  const { plan, ...rest } = report;
  return redact(JSON.stringify({ formatVersion: PLAN_FORMAT_VERSION, host: plan.host, spec: plan.spec, changes: plan.changes.map((c) => ({ address: c.address, action: c.action, risk: c.risk, summary: c.summary })), ...rest }, null, 2)) + '\n';
}
