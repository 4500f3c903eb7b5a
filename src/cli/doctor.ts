import { deriveFindings, runDoctor, renderDoctorJson, renderDoctorText, doctorExitCode } from '../diagnostics/doctor.js';
import { Host } from '../host/host.js';
import { readState } from '../apply/state.js';
import { LOCAL_LOCK_FILE } from '../apply/lock.js';
import { createLocalHostLock } from '../locks/local.js';
import { parseDuration } from '../duration.js';
import { SpecError, UserError } from '../errors.js';
import { oneOf, parse } from './args.js';

export const DOCTOR_HELP = `usage: reconcile doctor [--root DIR] [--spec SPEC] [--format text|json] [--interval 1s] [--probe-deadline 2s]

Diagnoses the host: disk IO per device and per process over an interval (what sar -d and iotop
show), mounts that do not answer a stat within a deadline (probed in a child process), processes
stuck in the kernel (D state, with their wait channel), failed systemd units, and reconcile's own
state under --root (the last apply, who holds the apply lock). With --spec: the time zone against
the spec's, and the PostgreSQL role, streaming state and lag against the spec's role.
exit 0 healthy · 2 something needs attention · 1 error`;

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('doctor', argv, {
    root: { type: 'string' },
    format: { type: 'string' },
    interval: { type: 'string' },
    'probe-deadline': { type: 'string' },
    spec: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(`${DOCTOR_HELP}\n`);
    return 0;
  }
  if (positionals.length) throw new UserError(`reconcile doctor: unexpected argument "${positionals[0]}" (see reconcile doctor --help)`);
  const format = oneOf('doctor', 'format', values.format, ['text', 'json'] as const, 'text');
  const intervalMs = duration('interval', values.interval, 1_000);
  const probeDeadlineMs = duration('probe-deadline', values['probe-deadline'], 2_000);

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

function duration(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === undefined) throw new UserError(`reconcile doctor: --${flag} takes a duration such as 500ms or 2s, not "${value}"`);
  return ms;
}
