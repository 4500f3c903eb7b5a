import * as path from 'node:path';
import { checkDrift } from '../drift/check.js';
import { driftExitCode, renderDriftJson, renderDriftProm, renderDriftText, type DriftReport } from '../drift/report.js';
import { runEvery } from '../drift/scheduler.js';
import { writeFileAtomic } from '../host/atomic.js';
import { DRIFT_SERVICE, DRIFT_TIMER, driftTimerUnits, withTimerUnits } from '../drift/timer.js';
import { applySpec } from '../apply/apply.js';
import { readSpecFile } from '../spec/load.js';
import { renderApplyText, renderPlanText } from '../render/text.js';
import { statSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { durationTooLong, parseDuration } from '../duration.js';
import { styleFor } from '../render/style.js';
import { UserError } from '../errors.js';
import { redact } from '../spec/secrets.js';
import { fileURLToPath } from 'node:url';
import { lockTimeout, oneOf, parse } from './args.js';
import { lockWaitLine } from '../render/progress.js';
import { commandHelp } from './docs.js';

export async function driftCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('drift', argv);
  if (values.help) {
    process.stdout.write(commandHelp('drift'));
    return 0;
  }
  if (positionals.length !== 1) throw new UserError(`reconcile drift: expected one SPEC, got ${positionals.length} (see reconcile drift --help)`);
  const spec = positionals[0]!;
  const format = oneOf('drift', 'format', values.format, ['text', 'json', 'prom'] as const, 'text');
  const everyMs = values.every === undefined ? undefined : parseDuration(values.every);
  if (values.every !== undefined && (everyMs === undefined || everyMs < 1000)) {
    throw new UserError(`reconcile drift: --every must be a duration of at least 1s such as 30s, 15m or 1h, not "${values.every}"${durationTooLong(values.every) ? ` (${durationTooLong(values.every)})` : ''}`);
  }
  if (values['install-timer']) {
    return installTimer(spec, { every: values.every, format, report: values.report, root: values.root, yes: values.yes, quiet: values.quiet, noColor: !!values['no-color'], lockTimeoutMs: lockTimeout('drift', values['lock-timeout']) });
  }

  const style = styleFor(process.stdout, !!values['no-color']);
  const render = (r: DriftReport, compact: boolean) =>
    format === 'prom' ? renderDriftProm(r) : format === 'json' ? renderDriftJson(r, { compact }) : renderDriftText(r, style);
  const publish = async (r: DriftReport, compact: boolean) => {
    if (values.report) await writeReport(values.report, render(r, false));
    if (!values.quiet) process.stdout.write(render(r, compact));
  };

  if (everyMs === undefined) {
    const report = await checkDrift(spec, { root: values.root });
    if (report.ok || format !== 'text') await publish(report, false);
    else if (values.report) await writeReport(values.report, render(report, false));
    // A failed check is an error like any other: its message on stderr, exit 1.
    if (!report.ok) process.stderr.write(`${redact(report.error ?? '')}\n`);
    return driftExitCode(report);
  }

  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    if (values.verbose) process.stderr.write(`reconcile drift: ${signal}: finishing the running check, then stopping\n`);
    controller.abort(signal);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    // One JSON document per line while looping, so a log reader can split the checks.
    await runEvery({
      intervalMs: everyMs,
      signal: controller.signal,
      check: async () => publish(await checkDrift(spec, { root: values.root }), true),
      onError: (e) => process.stderr.write(`reconcile drift: could not report the check: ${(e as Error)?.message ?? e}\n`),
    });
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
  return 0;
}

/**
 * The timer goes through the units kind, so it is planned and applied like any unit: the units are
 * written into the spec (reconcile owns what it applied; a later apply of a spec without them
 * would remove them), then the spec is applied, refusing when anything but the timer would change.
 */
async function installTimer(
  spec: string,
  o: { every?: string; format: string; report?: string; root?: string; yes?: boolean; quiet?: boolean; noColor: boolean; lockTimeoutMs?: number },
): Promise<number> {
  if (!o.every) throw new UserError('reconcile drift: --install-timer needs --every DURATION (e.g. --every 15m)');
  const bin = process.argv[1] ? path.resolve(process.argv[1]) : fileURLToPath(new URL('../../bin/reconcile', import.meta.url));
  const units = driftTimerUnits({ spec: path.resolve(spec), every: o.every, bin, format: o.format as 'text' | 'json' | 'prom', report: o.report && path.resolve(o.report) });
  const text = readSpecFile(spec);
  const { text: merged, changed } = await withTimerUnits(text, units);
  if (changed) {
    await writeFileAtomic(spec, merged, { mode: statSync(spec).mode & 0o7777 });
    if (!o.quiet) process.stderr.write(`reconcile drift: wrote ${DRIFT_SERVICE} and ${DRIFT_TIMER} into the units of ${spec}; commit them with the spec\n`);
  }
  const timer = new Set([DRIFT_SERVICE, DRIFT_TIMER].map((n) => `units[${n}]`));
  const style = styleFor(process.stderr, o.noColor);
  const report = await applySpec(spec, {
    root: o.root,
    lockTimeoutMs: o.lockTimeoutMs,
    onLockWait: (w) => void (o.quiet || process.stderr.write(lockWaitLine('drift', w))),
    // Called under the lock with the plan that will run: only the timer may change here.
    confirm: async (plan) => {
      const others = plan.changes.filter((c) => !timer.has(c.address)).map((c) => c.address);
      if (others.length) throw new UserError(`reconcile drift --install-timer: the host has other pending changes (${others.join(', ')}); not applying them here: the timer is in the spec now and is applied with them by reconcile apply ${spec} once they are reviewed`);
      if (o.yes) return true;
      if (!process.stdin.isTTY) throw new UserError('reconcile drift --install-timer: stdin is not a terminal; pass --yes to install the timer without confirmation');
      process.stderr.write(renderPlanText(plan, style));
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(`Install the drift timer on ${plan.host}? [y/N] `)).trim());
      } finally {
        rl.close();
      }
    },
  });
  if (report.results.length === 0 && report.ok) {
    if (!o.quiet) process.stdout.write(`${report.plan.host}: the drift timer is installed, nothing to change\n`);
    return 0;
  }
  process.stdout.write(o.quiet && report.ok ? '' : renderApplyText(report, style));
  return report.ok ? 0 : 1;
}

/** The report file, replaced atomically; a path that cannot be written is the user's to fix. */
async function writeReport(file: string, text: string): Promise<void> {
  await writeFileAtomic(file, text).catch((e: NodeJS.ErrnoException) => {
    throw new UserError(`${file}: cannot write the report (${e.code ?? e.message})`);
  });
}
