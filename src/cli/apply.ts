import { createInterface } from 'node:readline/promises';
import * as path from 'node:path';
import { applySpec } from '../apply/apply.js';
import type { Plan } from '../plan/types.js';
import { readPlanFile } from '../plan/file.js';
import { renderApplyText, renderPlanText } from '../render/text.js';
import { ApplyEvents, lockWaitLine, stepLine } from '../render/progress.js';
import { styleFor } from '../render/style.js';
import { SpecError, UserError } from '../errors.js';
import { lockTimeout, markAnswered, oneOf, parse } from './args.js';
import { commandHelp } from './docs.js';
import { setActivity, watchSelf } from '../host/watchdog.js';
import { confirmation } from './confirm.js';
import { findFleetRoot } from '../fleet/files.js';

/**
 * The fleet's part of an apply (status, `after:`), loaded only for a spec inside a fleet: outside
 * one, the fleet code and its Redis client cost a plain apply about 100 ms of loading for nothing.
 */
async function fleetReporting(specFile: string): Promise<typeof import('../fleet/status/run.js').applyReporting> {
  if (!findFleetRoot(path.dirname(path.resolve(specFile))).fleetRoot) return (_spec, _options, run) => run();
  return (await import('../fleet/status/run.js')).applyReporting;
}

/** An apply whose own event loop stops turning this long is stuck in this process, not in a step. */
const MAX_EVENT_LOOP_STALL_MS = 60_000;

export async function applyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('apply', argv);
  if (values.help) {
    process.stdout.write(commandHelp('apply'));
    return 0;
  }
  if (positionals.length !== 1) throw new UserError(`reconcile apply: expected one SPEC or PLANFILE, got ${positionals.length} (see reconcile apply --help)`);
  if (values['no-rollout'] && !values.reason?.trim()) throw new UserError('reconcile apply: --no-rollout needs --reason TEXT (it is recorded)');
  const format = oneOf('apply', 'format', values.format, ['text', 'json'] as const, 'text');
  const lockTimeoutMs = lockTimeout('apply', values['lock-timeout']);
  const style = styleFor(process.stdout, !!values['no-color']);
  // --format json: stdout is the event stream from here on, errors included.
  const events = format === 'json' ? new ApplyEvents((line) => process.stdout.write(line)) : undefined;
  events?.version();
  try {
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
    // A terminal gets a line per step that ends when the step does; a log gets a line per start and end.
    const logLines = !process.stderr.isTTY;
    const report = await (await fleetReporting(specFile))(specFile, { root, source: 'apply', signal: controller.signal }, (beforeSteps) =>
      applySpec(specFile, {
        root,
        beforeSteps,
        savedPlan,
        targets,
        allowDestructive: values['allow-destructive'],
        signal: controller.signal,
        noRollout: values['no-rollout'] ? { reason: values.reason!.trim() } : undefined,
        lockTimeoutMs,
        onLockWait: (w) => {
          if (!values.quiet) process.stderr.write(lockWaitLine('apply', w));
          events?.lockWait(w);
        },
        onPlan: (plan) => events?.changeSummary(plan),
        confirm: savedPlan || values.yes ? undefined : (plan) => confirm(plan, interactive, style),
        onStep: (p) => {
          const { index, total, step, result } = p;
          if (!result) setActivity(`apply ${specFile}: step ${index + 1}/${total}: ${step.title}`);
          if (events) return events.step(p);
          if (values.quiet) return;
          if (logLines) process.stderr.write(stepLine(p));
          else if (result) process.stderr.write(` ${result.status} (${result.durationMs} ms)\n`);
          else process.stderr.write(`[${index + 1}/${total}] ${step.title} ...`);
        },
      }),
    ).finally(() => selfWatch.stop());
    if (events) events.done(report);
    else if (report.deferred) process.stderr.write(`reconcile: ${report.stoppedBecause}\n`);
    else process.stdout.write(values.quiet && report.ok ? '' : renderApplyText(report, style));
    // Deferred is not an error: the pull unit runs again (SuccessExitStatus=2).
    return report.deferred ? 2 : report.ok ? 0 : 1;
  } catch (e) {
    if (events) {
      // The stream ends with apply_done whatever happened; main still says the error on stderr.
      const diagnostics = e instanceof SpecError ? e.diagnostics : [{ severity: 'error' as const, message: (e as Error)?.message ?? String(e) }];
      for (const d of diagnostics) events.diagnostic(d);
      events.done(undefined, (e as Error)?.message ?? String(e));
      markAnswered(e);
    }
    throw e;
  }
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
