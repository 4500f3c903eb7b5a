import { deriveFindings, runDoctor, renderDoctorJson, renderDoctorText, doctorExitCode } from '../diagnostics/doctor.js';
import { Host } from '../host/host.js';
import { readState } from '../apply/state.js';
import { LOCAL_LOCK_FILE } from '../apply/lock.js';
import { createLocalHostLock } from '../locks/local.js';
import { SpecError, UserError } from '../errors.js';
import { durationFlag, oneOf, parse } from './args.js';
import { commandHelp } from './docs.js';

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('doctor', argv);
  if (values.help) {
    process.stdout.write(commandHelp('doctor'));
    return 0;
  }
  if (positionals.length) throw new UserError(`reconcile doctor: unexpected argument "${positionals[0]}" (see reconcile doctor --help)`);
  const format = oneOf('doctor', 'format', values.format, ['text', 'json'] as const, 'text');
  const intervalMs = durationFlag('doctor', 'interval', values.interval) ?? 1_000;
  const probeDeadlineMs = durationFlag('doctor', 'probe-deadline', values['probe-deadline']) ?? 2_000;

  const host = new Host(values.root ?? '/');
  const [report, state, lockHolder] = await Promise.all([
    runDoctor({ intervalMs, probeDeadlineMs }),
    readState(host),
    host.realPath(LOCAL_LOCK_FILE).then((f) => createLocalHostLock(f).holder()).catch(() => null),
  ]);
  const last = state.lastApply;
  if (values.spec) {
    const { loadAndValidate } = await import('../resources/validate.js');
    const { spec, diagnostics } = await loadAndValidate(values.spec, { root: host.root });
    const errors = diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) throw new SpecError(errors);
    const { zoneOfLink } = await import('../resources/timezone/index.js');
    const { replicationSection } = await import('../resources/postgres/replication.js');
    // PostgreSQL is asked on the machine itself: its data directory is not under --root.
    const [link, replication] = await Promise.all([host.readlink('/etc/localtime'), replicationSection(new Host('/'), spec.value)]);
    report.time = { want: spec.value.timezone ?? null, have: zoneOfLink(link) };
    report.replication = replication;
    report.findings = deriveFindings(report);
  }
  report.reconcile = {
    root: host.root,
    lastApply: last ? { at: last.at, spec: last.spec.path, commit: last.spec.git?.commit ?? null } : null,
    lockHolder,
  };
  process.stdout.write(format === 'json' ? renderDoctorJson(report) : renderDoctorText(report));
  return doctorExitCode(report);
}
