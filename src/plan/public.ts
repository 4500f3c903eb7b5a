import { sha256 } from '../hash.js';
import { redact } from '../spec/secrets.js';
import { orderSteps } from './order.js';
import { PLAN_FORMAT_VERSION, type ApplyReport, type Change, type Plan, type Step } from './types.js';

/** A change as it leaves the process: its steps by id (each step is stored once, in `steps`). */
export interface PublicChange extends Omit<Change, 'steps'> {
  steps: string[];
}

/** The plan's stable, versioned JSON form: what `plan --format json` prints and `--out` saves. */
export interface PublicPlan extends Omit<Plan, 'changes'> {
  changes: PublicChange[];
  /** Every step once, in the order apply runs them, in their public form (see publicStep). */
  steps: Step[];
}

/**
 * The plan as it may leave the process. Steps shared by many changes (one write of /etc/fstab, the
 * units record) are stored once and referenced by id, so the form grows linearly with the plan.
 * A step that writes a file carries the file's sha256 and size, not its bytes: the whole new file
 * (fstab with someone's `password=` line, a credentials file) is not the reviewer's to read, and
 * apply re-plans rather than replaying saved steps.
 */
export function publicPlan(plan: Plan): PublicPlan {
  return { ...plan, changes: plan.changes.map(publicChange), steps: orderSteps(plan.changes).map(publicStep) };
}

export function publicChange(change: Change): PublicChange {
  return { ...change, steps: change.steps.map((s) => s.id) };
}

export function publicStep(step: Step): Step {
  const content = step.args.content;
  if (typeof content !== 'string') return step;
  const { content: _omitted, ...args } = step.args;
  return { ...step, args: { ...args, contentSha256: sha256(content), contentBytes: Buffer.byteLength(content) } };
}

/** The plan file's bytes: the public form, secrets redacted. */
export function planJson(plan: Plan): string {
  return redact(JSON.stringify(publicPlan(plan), null, 2)) + '\n';
}

/** A change as an apply report shows it: what and how risky, never its steps' arguments. */
export function changeHeadline(change: Change): Pick<Change, 'address' | 'action' | 'risk' | 'summary'> {
  return { address: change.address, action: change.action, risk: change.risk, summary: change.summary };
}

/**
 * The apply report's stable JSON form. It names changes and steps; it carries no step arguments
 * (a write's file content), neither for the plan nor for what still differs after apply.
 */
export function applyReportJson(report: ApplyReport): string {
  const { plan, remaining, ...rest } = report;
  return (
    redact(
      JSON.stringify(
        { formatVersion: PLAN_FORMAT_VERSION, host: plan.host, spec: plan.spec, changes: plan.changes.map(changeHeadline), ...rest, remaining: remaining.map(changeHeadline) },
        null,
        2,
      ),
    ) + '\n'
  );
}
