import * as path from 'node:path';
import { checkDrift } from '../drift/check.js';
import { driftExitCode, renderDriftJson, renderDriftProm, renderDriftText, type DriftReport } from '../drift/report.js';
import { runEvery } from '../drift/scheduler.js';
import { writeFileAtomic } from '../host/atomic.js';
import { driftFragmentPath, driftTimerUnits } from '../drift/timer.js';
import { parseSchedule, unitsFragmentYaml } from '../schedule/units.js';
import { readSpecFile } from '../spec/load.js';
import { readFileSync } from 'node:fs';
import { gitRoot } from '../plan/git.js';
import { findFleetRoot } from '../fleet/files.js';
import { durationTooLong, parseDuration } from '../duration.js';
import { styleFor } from '../render/style.js';
import { UserError } from '../errors.js';
import { redact } from '../spec/secrets.js';
import { oneOf, parse } from './args.js';
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
  if (values['install-timer']) {
    return installTimer(spec, { every: values.every, format, report: values.report, specAt: values['spec-at'], out: values.out, print: values.print, quiet: values.quiet });
  }
  const everyMs = values.every === undefined ? undefined : parseDuration(values.every);
  if (values.every !== undefined && (everyMs === undefined || everyMs < 1000)) {
    throw new UserError(`reconcile drift: --every must be a duration of at least 1s such as 30s, 15m or 1h, not "${values.every}"${durationTooLong(values.every) ? ` (${durationTooLong(values.every)})` : ''}`);
  }

  const style = styleFor(process.stdout, !!values['no-color']);
  // A fleet host's check is its status too (DESIGN §8.5); outside a fleet this does nothing.
  const reportDrift = async (r: DriftReport) =>
    (await import('../fleet/status/run.js')).reportCheck(spec, { root: values.root, intervalSec: everyMs === undefined ? undefined : Math.round(everyMs / 1000) }, { drift: r });
  const render = (r: DriftReport, compact: boolean) =>
    format === 'prom' ? renderDriftProm(r) : format === 'json' ? renderDriftJson(r, { compact }) : renderDriftText(r, style);
  const publish = async (r: DriftReport, compact: boolean) => {
    if (values.report) await writeReport(values.report, render(r, false));
    if (!values.quiet) process.stdout.write(render(r, compact));
  };

  if (everyMs === undefined) {
    const report = await checkDrift(spec, { root: values.root });
    await reportDrift(report);
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
      check: async () => {
        const report = await checkDrift(spec, { root: values.root });
        await reportDrift(report);
        await publish(report, true);
      },
      onError: (e) => process.stderr.write(`reconcile drift: could not report the check: ${(e as Error)?.message ?? e}\n`),
    });
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
  return 0;
}

/**
 * The timer's units as a fragment beside the spec (or on stdout), never an edit of the spec: the
 * spec is the user's text under review, and the fragment is meant for git, so it holds no path of
 * this machine. The service runs `reconcile` by name: systemd (since v239) looks a bare name up in
 * its fixed search path (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin) on the host that runs
 * it, where the README's install puts reconcile; `/usr/bin/env reconcile` would do the same with
 * one more process and hide the program from `systemd-analyze verify`.
 */
async function installTimer(spec: string, o: { every?: string; format: string; report?: string; specAt?: string; out?: string; print?: boolean; quiet?: boolean }): Promise<number> {
  if (!o.every) throw new UserError('reconcile drift: --install-timer needs --every DURATION (e.g. --every 15m, or daily)');
  const schedule = parseSchedule(o.every);
  if (typeof schedule === 'string') throw new UserError(`reconcile drift: ${schedule}`);
  // A fragment inside a repository goes to other machines through git: this checkout's path of the
  // spec means nothing there, so the user says where the spec is on the hosts.
  if (o.specAt === undefined && gitRoot(path.dirname(path.resolve(spec))) !== null) {
    throw new UserError(`reconcile drift: ${spec} is in a git repository, so the fragment will run on other machines: give the spec's path there with --spec-at PATH (e.g. --spec-at /etc/reconcile/${path.basename(spec)})`);
  }
  const specAt = o.specAt ?? path.resolve(spec);
  if (!path.isAbsolute(specAt)) throw new UserError(`reconcile drift: --spec-at ${JSON.stringify(specAt)} must be an absolute path (where the spec is on the hosts that run the timer)`);
  const report = o.report && path.resolve(o.report);
  const units = driftTimerUnits({ spec: specAt, schedule, bin: 'reconcile', format: o.format as 'text' | 'json' | 'prom', report });
  const text = await unitsFragmentYaml(units, `reconcile drift every ${o.every}: written by reconcile drift --install-timer; include it in the host's spec.`);
  if (o.print) {
    process.stdout.write(text);
    return 0;
  }
  const out = o.out ?? driftFragmentPath(spec);
  if (readTextOrNull(out) !== text) await writeReport(out, text);
  // How an include names it: `./x` relative to the host file, else relative to the fleet's root.
  const beside = path.relative(path.dirname(path.resolve(spec)), path.resolve(out));
  const fleetRoot = findFleetRoot(path.dirname(path.resolve(spec))).fleetRoot;
  const rel = !beside.startsWith('..') ? `./${beside}` : fleetRoot ? path.relative(fleetRoot, path.resolve(out)) : beside;
  const { parse: parseYaml } = await import('yaml');
  const included = (() => {
    try {
      const include = (parseYaml(readSpecFile(spec)) as { include?: unknown } | null)?.include;
      return Array.isArray(include) && (include.includes(rel) || (fleetRoot !== undefined && include.includes(path.relative(fleetRoot, path.resolve(out)))));
    } catch {
      return false; // a spec that does not parse is validate's to report
    }
  })();
  if (!o.quiet) {
    // include: is a fleet's (fragments merge into host files); a spec outside a fleet takes the units as they are.
    process.stderr.write(
      included
        ? `reconcile drift: wrote ${out}; ${spec} includes it: reconcile apply ${spec} installs the timer\n`
        : fleetRoot
          ? `reconcile drift: wrote ${out}; add it to ${spec} (include: [${rel}]), commit both, then reconcile apply ${spec} installs the timer\n`
          : `reconcile drift: wrote ${out}; ${spec} is in no fleet, so it cannot include it: copy its units into the spec's units:, then reconcile apply ${spec} installs the timer\n`,
    );
  }
  return 0;
}

function readTextOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** The report file, replaced atomically; a path that cannot be written is the user's to fix. */
async function writeReport(file: string, text: string): Promise<void> {
  await writeFileAtomic(file, text).catch((e: NodeJS.ErrnoException) => {
    throw new UserError(`${file}: cannot write the report (${e.code ?? e.message})`);
  });
}
