import { createInterface } from 'node:readline/promises';
import { applySpec } from '../apply/apply.js';
import type { Plan } from '../plan/types.js';
import { readPlanFile } from '../plan/file.js';
import { renderApplyText, renderPlanText } from '../render/text.js';
import { renderApplyJson } from '../render/json.js';
import { styleFor } from '../render/style.js';
import { UserError } from '../errors.js';
import { oneOf, parse } from './args.js';
import { setActivity, watchSelf } from '../host/watchdog.js';
import { confirmation } from './confirm.js';

/** An apply whose own event loop stops turning this long is stuck in this process, not in a step. */
const MAX_EVENT_LOOP_STALL_MS = 60_000;

export const APPLY_HELP = `usage: reconcile apply SPEC|PLANFILE [--root DIR] [--yes] [--allow-destructive] [--format text|json] [--target ADDRESS]...

Takes the host lock, observes the host again, runs the steps in order (each re-checks the host
before it acts), then observes once more and fails unless the host matches the spec.
  PLANFILE             a plan saved by \`plan --out\`: refused, naming the resources, if the host changed since
  --root DIR           DIR is the host's /; live-only actions are skipped (offline root)
  --yes                do not ask for confirmation (needed when stdin is not a terminal)
  --allow-destructive  allow changes whose risk is destructive
  --target ADDRESS     only this resource's changes (repeatable); a saved plan keeps the targets it was made with
  --no-rollout --reason TEXT  take no rollout slot in the host's fleet groups (recorded with who and why)
A plan whose risk reaches a rollout group's gate first takes a slot in that group (fleet.yaml).
exit 0 converged · 2 deferred (no rollout slot within rollout.wait) · 1 error (the report says what ran, what failed and what did not run)`;

export async function applyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('apply', argv, {
    root: { type: 'string' },
    yes: { type: 'boolean', short: 'y' },
    'allow-destructive': { type: 'boolean' },
    format: { type: 'string' },
    target: { type: 'string', multiple: true },
    'no-rollout': { type: 'boolean' },
    reason: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(`${APPLY_HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UserError(`reconcile apply: expected one SPEC or PLANFILE, got ${positionals.length} (see reconcile apply --help)`);
  if (values['no-rollout'] && !values.reason?.trim()) throw new UserError('reconcile apply: --no-rollout needs --reason TEXT (it is recorded)');
  const format = oneOf('apply', 'format', values.format, ['text', 'json'] as const, 'text');
  const style = styleFor(process.stdout, !!values['no-color']);
  const savedPlan = readPlanFile(positionals[0]!);
  const specFile = savedPlan ? savedPlan.spec.path : positionals[0]!;
  const root = values.root ?? savedPlan?.root;
  if (savedPlan && values.target) throw new UserError(`reconcile apply: ${positionals[0]} is a saved plan: it keeps the targets it was made with (${savedPlan.targets?.join(', ') ?? 'none'}); plan again with --target to change them`);
  const targets = savedPlan ? savedPlan.targets : values.target;

  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nreconcile: ${signal}: finishing the running step, then stopping\n`);
    controller.abort(signal);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  // A supervisor (systemd Restart=) can take over from a process that hangs itself.
  const selfWatch = watchSelf({ maxStallMs: MAX_EVENT_LOOP_STALL_MS });
  setActivity(`apply ${specFile}: planning`);
  const interactive = !!process.stdin.isTTY;
  const { applyReporting } = await import('../fleet/status/run.js');
  const report = await applyReporting(specFile, { root, source: 'apply', signal: controller.signal }, (beforeSteps) => applySpec(specFile, {
    root,
    beforeSteps,
    savedPlan,
    targets,
    allowDestructive: values['allow-destructive'],
    signal: controller.signal,
    noRollout: values['no-rollout'] ? { reason: values.reason!.trim() } : undefined,
    confirm: savedPlan || values.yes ? undefined : (plan) => confirm(plan, interactive, style),
    onStep: ({ index, total, step, result }) => {
      if (!result) setActivity(`apply ${specFile}: step ${index + 1}/${total}: ${step.title}`);
      if (!process.stderr.isTTY || values.quiet || format !== 'text') return;
      if (result) process.stderr.write(` ${result.status} (${result.durationMs} ms)\n`);
      else process.stderr.write(`[${index + 1}/${total}] ${step.title} ...`);
    },
  })).finally(() => selfWatch.stop());
  if (report.deferred) {
    // Not an error: the pull unit runs again (SuccessExitStatus=2).
    if (format === 'json') process.stdout.write(renderApplyJson(report));
    process.stderr.write(`reconcile: ${report.stoppedBecause}\n`);
    return 2;
  }
  process.stdout.write(format === 'json' ? renderApplyJson(report) : values.quiet && report.ok ? '' : renderApplyText(report, style));
  return report.ok ? 0 : 1;
}

async function confirm(plan: Plan, interactive: boolean, style: ReturnType<typeof styleFor>): Promise<boolean> {
  if (!interactive) {
    throw new UserError('reconcile apply: stdin is not a terminal; pass --yes to apply without confirmation (review first with reconcile plan)');
  }
  process.stderr.write(renderPlanText(plan, style));
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const ask = confirmation(plan);
    return ask.accepts(await rl.question(ask.question));
  } finally {
    rl.close();
  }
}
