import { hostname } from 'node:os';
import { readFileSync, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { Host } from '../host/host.js';
import { planSpec } from '../apply/planner.js';
import { applySpec } from '../apply/apply.js';
import {
  PULL_DISABLED_FILE,
  cacheDirOf,
  checkFastForward,
  checkoutCommit,
  fetchRef,
  locateSpec,
  readPullDisabled,
  readPullState,
  repoId,
  verifyCommit,
  withoutCredentials,
  writePullState,
} from '../pull/pull.js';
import { ALLOWED_SIGNERS_FILE, PULL_LOCK_WAIT_MS, PULL_UNIT, PULL_UNITS_SPEC, environmentFileText, installPullFiles, parseCredential, pullTimerUnits, pullUnitsSpec } from '../pull/timer.js';
import { parseSchedule } from '../schedule/units.js';
import { createLocalHostLock } from '../locks/local.js';
import { mkdir } from 'node:fs/promises';
import { renderApplyText, renderPlanText } from '../render/text.js';
import { renderApplyJson, renderPlanJson } from '../render/json.js';
import { styleFor } from '../render/style.js';
import { UserError } from '../errors.js';
import { lockTimeout, oneOf, parse } from './args.js';
import { lockWaitLine } from '../render/progress.js';
import type { LockWait } from '../locks/types.js';
import { commandHelp } from './docs.js';

const DEFAULT_EVERY = '15m';

export async function pullCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('pull', argv);
  if (values.help) {
    process.stdout.write(commandHelp('pull'));
    return 0;
  }
  const host = new Host(values.root ?? '/');
  if (values.disable !== undefined || values.enable) {
    if (positionals.length || (values.disable !== undefined && values.enable)) throw new UserError('reconcile pull: --disable REASON and --enable take nothing else (see reconcile pull --help)');
    return toggle(host, values.disable, !!values.quiet);
  }
  if (positionals.length !== 1) throw new UserError(`reconcile pull: expected one REPO, got ${positionals.length} (see reconcile pull --help)`);
  const format = oneOf('pull', 'format', values.format, ['text', 'json'] as const, 'text');
  const repo = positionals[0]!;
  const ref = values.ref ?? 'main';
  const template = values.path ?? 'hosts/{hostname}.yaml';
  const name = values.host ?? hostname();
  if (values['allowed-signers'] !== undefined && !values['verify-signatures']) throw new UserError('reconcile pull: --allowed-signers is used with --verify-signatures');
  if (values['install-timer']) return installTimer(host, repo, ref, template, name, values);
  if (values.env || values.credential) throw new UserError('reconcile pull: --env and --credential are options of --install-timer');
  // Without --install-timer, --every says how often this run recurs (the pull unit passes its own):
  // fleet status judges the host stale by it (DESIGN §8.5). It starts no loop.
  const every = values.every === undefined ? undefined : parseSchedule(values.every);
  if (typeof every === 'string') throw new UserError(`reconcile pull: ${every}`);
  const intervalSec = every && Math.round(every.ms / 1000);

  // A disabled host changes nothing, fetches nothing: the operator said why.
  const disabled = await readPullDisabled(host);
  if (disabled) {
    // One line in the journal whatever the reason holds: a line break must not forge another entry.
    for (const k of ['reason', 'by'] as const) disabled[k] = disabled[k].replace(/[\x00-\x1f\x7f]/g, ' ');
    process.stdout.write(format === 'json' ? `${JSON.stringify({ formatVersion: 1, result: 'disabled', reason: disabled.reason, since: disabled.at, by: disabled.by })}\n` : `reconcile pull: disabled: ${disabled.reason}${disabled.at ? ` (since ${disabled.at}${disabled.by ? ` by ${disabled.by}` : ''})` : ''}\n`);
    return 0;
  }

  // One pull per cache at a time: a second pull (the timer beside a manual run) must not check out
  // another commit under the first one's apply. The apply itself takes the host lock as always.
  await host.ensureDir('/var/lib');
  await mkdir(await host.realPath('/var/lib/reconcile/locks', { follow: true, write: true }), { recursive: true, mode: 0o700 });
  const lockFile = await host.realPath(`/var/lib/reconcile/locks/pull-${path.basename(cacheDirOf(repo))}`, { write: true });
  const lockTimeoutMs = lockTimeout('pull', values['lock-timeout']);
  const onLockWait = (w: LockWait) => void (values.quiet || process.stderr.write(lockWaitLine('pull', w)));
  const pullLock = await createLocalHostLock(lockFile).acquire({ waitMs: lockTimeoutMs ?? PULL_LOCK_WAIT_MS, onWait: onLockWait, holder: { host: name, pid: process.pid, plan: `pull ${ref}`, since: new Date().toISOString() } });
  try {
    return await pullUnderLock(host, repo, ref, template, name, { ...values, lockTimeoutMs, onLockWait, intervalSec }, format);
  } finally {
    await pullLock.release();
  }
}

async function toggle(host: Host, reason: string | undefined, quiet: boolean): Promise<number> {
  if (reason === undefined) {
    const was = await readPullDisabled(host);
    await host.removeFile(PULL_DISABLED_FILE);
    if (!quiet) process.stdout.write(was ? `reconcile pull: enabled (was disabled: ${was.reason})\n` : 'reconcile pull: enabled (was not disabled)\n');
    return 0;
  }
  if (!reason.trim()) throw new UserError('reconcile pull: --disable needs a REASON (who reads it later needs to know why)');
  const by = process.env.SUDO_USER ?? process.env.USER ?? process.env.LOGNAME ?? `uid ${process.getuid?.() ?? '?'}`;
  await host.writeFile(PULL_DISABLED_FILE, `${JSON.stringify({ reason, at: new Date().toISOString(), by }, null, 2)}\n`, { mode: 0o644 });
  if (!quiet) process.stdout.write(`reconcile pull: disabled: ${reason}\n`);
  return 0;
}

async function pullUnderLock(
  host: Host,
  repo: string,
  ref: string,
  template: string,
  name: string,
  values: {
    root?: string;
    apply?: boolean;
    quiet?: boolean;
    verbose?: boolean;
    'allow-rewind'?: boolean;
    'allow-destructive'?: boolean;
    'no-color'?: boolean;
    'verify-signatures'?: boolean;
    'allowed-signers'?: string;
    lockTimeoutMs?: number;
    onLockWait: (w: LockWait) => void;
    /** Seconds between this host's runs, for its fleet status (--every). */
    intervalSec?: number;
  },
  format: 'text' | 'json',
): Promise<number> {
  const { dir, commit } = await fetchRef(host, repo, ref);
  // Before anything of the commit is on disk or trusted: who signed it, then whether it follows the last one.
  if (values['verify-signatures']) {
    const good = await verifyCommit(host, dir, commit, values['allowed-signers'] !== undefined ? { given: values['allowed-signers'] } : { onHost: ALLOWED_SIGNERS_FILE });
    if (values.verbose) process.stderr.write(`reconcile pull: ${commit.slice(0, 12)}: ${good}\n`);
  }
  const rewind = await checkFastForward(host, dir, await readPullState(host), commit, ref, !!values['allow-rewind']);
  await checkoutCommit(host, dir, commit);
  const spec = locateSpec(dir, template, name);
  if (rewind && !values.quiet) process.stderr.write(`reconcile pull: ${rewind}\n`);
  if (!values.quiet) process.stderr.write(`reconcile pull: ${withoutCredentials(repoId(repo))} ${ref} at ${commit.slice(0, 12)}: ${path.relative(dir, spec)}\n`);
  const style = styleFor(process.stdout, !!values['no-color']);

  if (!values.apply) {
    const { plan } = await planSpec(spec, { root: values.root, memo: 'use' });
    await (await import('../fleet/status/run.js')).reportCheck(spec, { root: values.root, intervalSec: values.intervalSec }, { plan });
    process.stdout.write(format === 'json' ? renderPlanJson(plan) : renderPlanText(plan, style, { verbose: values.verbose }));
    return plan.changes.length ? 2 : 0;
  }
  const { applyReporting } = await import('../fleet/status/run.js');
  const report = await applyReporting(spec, { root: values.root, source: 'pull', intervalSec: values.intervalSec }, (beforeSteps) =>
    applySpec(spec, { root: values.root, allowDestructive: values['allow-destructive'], beforeSteps, lockTimeoutMs: values.lockTimeoutMs, onLockWait: values.onLockWait }),
  );
  process.stdout.write(format === 'json' ? renderApplyJson(report) : values.quiet && report.ok ? '' : renderApplyText(report, style));
  // No rollout slot within rollout.wait: nothing ran; the timer's unit counts exit 2 as success and runs again.
  if (report.deferred) {
    if (!values.quiet) process.stderr.write(`reconcile pull: ${report.stoppedBecause}\n`);
    return 2;
  }
  if (!report.ok) return 1;
  // Recorded only once the host converged: a failed apply must not move the fast-forward base.
  await writePullState(host, { formatVersion: 1, repo: repoId(repo), ref, path: path.relative(dir, spec), commit, appliedAt: new Date().toISOString() });
  return 0;
}

/**
 * The host's own loop, through the units kind: the units are a generated spec of reconcile's own
 * units (kept at var/lib/reconcile/pull/units.yaml), applied with `ownUnits` so neither it nor the
 * repository's spec removes what the other applied. Secrets and the allowed signers are files
 * written here, before the units that read them.
 */
async function installTimer(
  host: Host,
  repo: string,
  ref: string,
  template: string,
  name: string,
  values: { root?: string; every?: string; env?: string[]; credential?: string[]; host?: string; 'verify-signatures'?: boolean; 'allowed-signers'?: string; quiet?: boolean; 'no-color'?: boolean },
): Promise<number> {
  const schedule = parseSchedule(values.every ?? DEFAULT_EVERY);
  if (typeof schedule === 'string') throw new UserError(`reconcile pull: ${schedule}`);
  const verify = !!values['verify-signatures'];
  if (verify && values['allowed-signers'] === undefined && (await host.readText(ALLOWED_SIGNERS_FILE)) === null) {
    throw new UserError(`reconcile pull: --install-timer --verify-signatures needs --allowed-signers FILE (copied to ${ALLOWED_SIGNERS_FILE}; none is installed yet)`);
  }
  const allowedSigners = values['allowed-signers'] === undefined ? undefined : readLocal(values['allowed-signers'], 'allowed signers');
  if (allowedSigners !== undefined && !/^\s*[^#\s]\S*\s+(\S+=\S*\s+)*(ssh-|ecdsa-|sk-)/m.test(allowedSigners)) {
    throw new UserError(`reconcile pull: ${values['allowed-signers']}: no allowed-signers line in it (expected "PRINCIPALS [OPTIONS] KEYTYPE KEY", as in ssh-keygen(1) ALLOWED SIGNERS)`);
  }
  const envNames = [...new Set(values.env ?? [])];
  const envText = envNames.length ? environmentFileText(envNames, process.env) : undefined;
  const credentials = (values.credential ?? []).map(parseCredential);
  // The unit is written on this host for this host: the launcher that runs now, by its real path.
  const bin = realpathSync(process.argv[1]!);
  const units = pullTimerUnits({ bin, repo: repoId(repo), ref, path: template, host: values.host, schedule, verifySignatures: verify, envNames, credentials });
  await installPullFiles(host, { envText, allowedSigners });
  await host.writeFile(PULL_UNITS_SPEC, await pullUnitsSpec(name, units), { mode: 0o600 });
  const report = await applySpec(host.resolve(PULL_UNITS_SPEC), { root: values.root, ownUnits: true });
  const style = styleFor(process.stdout, !!values['no-color']);
  if (report.ok && report.results.length === 0) {
    if (!values.quiet) process.stdout.write(`${report.plan.host}: ${PULL_UNIT}.timer is installed as asked, nothing to change\n`);
    return 0;
  }
  process.stdout.write(values.quiet && report.ok ? '' : renderApplyText(report, style));
  return report.ok ? 0 : 1;
}

function readLocal(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`reconcile pull: ${file}: cannot read the ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
