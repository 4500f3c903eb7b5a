import type { Change, Plan } from '../plan/types.js';
import { sha256 } from '../hash.js';
import type { ApplyReport } from '../apply/apply.js';
import { redact } from '../spec/secrets.js';
import { PLAN_FORMAT_VERSION } from '../plan/types.js';

/** The plan as stable, versioned JSON (the form `--out` saves and `apply PLANFILE` reads). */
export function renderPlanJson(plan: Plan): string {
  return redact(JSON.stringify(publicPlan(plan), null, 2)) + '\n';
}

/**
 * The plan as it may leave the process: a step that writes a file carries the file's sha256 and
 * size, not its bytes. The whole new file (fstab with someone's `password=` line, a credentials
 * file) is not the reviewer's to read, and apply re-plans rather than replaying saved steps.
 */
export function publicPlan(plan: Plan): Plan {
  return { ...plan, changes: plan.changes.map(publicChange) };
}

export function publicChange(change: Change): Change {
  return {
    ...change,
    steps: change.steps.map((s) => {
      const content = s.args.content;
      if (typeof content !== 'string') return s;
      const { content: _omitted, ...args } = s.args;
      return { ...s, args: { ...args, contentSha256: sha256(content), contentBytes: Buffer.byteLength(content) } };
    }),
  };
}

export function renderApplyJson(report: ApplyReport): string {
  const { plan, ...rest } = report;
  return redact(JSON.stringify({ formatVersion: PLAN_FORMAT_VERSION, host: plan.host, spec: plan.spec, changes: plan.changes.map((c) => ({ address: c.address, action: c.action, risk: c.risk, summary: c.summary })), ...rest }, null, 2)) + '\n';
}
