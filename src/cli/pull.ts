import { hostname } from 'node:os';
import * as path from 'node:path';
import { Host } from '../host/host.js';
import { planSpec } from '../apply/planner.js';
import { applySpec } from '../apply/apply.js';
import { cacheDirOf, checkFastForward, checkoutRef, locateSpec, readPullState, repoId, withoutCredentials, writePullState } from '../pull/pull.js';
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

export async function pullCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('pull', argv);
  if (values.help) {
    process.stdout.write(commandHelp('pull'));
    return 0;
  }
  if (positionals.length !== 1) throw new UserError(`reconcile pull: expected one REPO, got ${positionals.length} (see reconcile pull --help)`);
  const format = oneOf('pull', 'format', values.format, ['text', 'json'] as const, 'text');
  const repo = positionals[0]!;
  const ref = values.ref ?? 'main';
  const template = values.path ?? 'hosts/{hostname}.yaml';
  const host = new Host(values.root ?? '/');
  const name = values.host ?? hostname();

  // One pull per cache at a time: a second pull (the timer beside a manual run) must not check out
  // another commit under the first one's apply. The apply itself takes the host lock as always.
  await host.ensureDir('/var/lib');
  await mkdir(await host.realPath('/var/lib/reconcile/locks', { follow: true, write: true }), { recursive: true, mode: 0o700 });
  const lockFile = await host.realPath(`/var/lib/reconcile/locks/pull-${path.basename(cacheDirOf(repo))}`, { write: true });
  const lockTimeoutMs = lockTimeout('pull', values['lock-timeout']);
  const onLockWait = (w: LockWait) => void (values.quiet || process.stderr.write(lockWaitLine('pull', w)));
  const pullLock = await createLocalHostLock(lockFile).acquire({ waitMs: lockTimeoutMs ?? 10 * 60_000, onWait: onLockWait, holder: { host: name, pid: process.pid, plan: `pull ${ref}`, since: new Date().toISOString() } });
  try {
    return await pullUnderLock(host, repo, ref, template, name, { ...values, lockTimeoutMs, onLockWait }, format);
  } finally {
    await pullLock.release();
  }
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
    lockTimeoutMs?: number;
    onLockWait: (w: LockWait) => void;
  },
  format: 'text' | 'json',
): Promise<number> {
  const { dir, commit } = await checkoutRef(host, repo, ref);
  const spec = locateSpec(dir, template, name);
  const rewind = await checkFastForward(host, dir, await readPullState(host), commit, ref, !!values['allow-rewind']);
  if (rewind && !values.quiet) process.stderr.write(`reconcile pull: ${rewind}\n`);
  if (!values.quiet) process.stderr.write(`reconcile pull: ${withoutCredentials(repoId(repo))} ${ref} at ${commit.slice(0, 12)}: ${path.relative(dir, spec)}\n`);
  const style = styleFor(process.stdout, !!values['no-color']);

  if (!values.apply) {
    const { plan } = await planSpec(spec, { root: values.root });
    process.stdout.write(format === 'json' ? renderPlanJson(plan) : renderPlanText(plan, style, { verbose: values.verbose }));
    return plan.changes.length ? 2 : 0;
  }
  const report = await applySpec(spec, { root: values.root, allowDestructive: values['allow-destructive'], lockTimeoutMs: values.lockTimeoutMs, onLockWait: values.onLockWait });
  process.stdout.write(format === 'json' ? renderApplyJson(report) : values.quiet && report.ok ? '' : renderApplyText(report, style));
  if (!report.ok) return 1;
  // Recorded only once the host converged: a failed apply must not move the fast-forward base.
  await writePullState(host, { formatVersion: 1, repo: repoId(repo), ref, path: path.relative(dir, spec), commit, appliedAt: new Date().toISOString() });
  return 0;
}
