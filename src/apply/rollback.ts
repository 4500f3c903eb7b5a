/**
 * `reconcile rollback [JOURNAL]`: put back the bytes every file had before an apply, from the
 * copies its journal kept. It is a plan first (the same Plan type, rendered by the same
 * renderers), then an apply of that plan under the host lock, journaled itself (so a rollback can
 * be rolled back), then a re-read that proves each file holds its old bytes again.
 *
 * What a journal cannot undo is listed, never pretended: commands that ran (a restart, a mount,
 * `exportfs`, a migration), files written without a kept copy (they hold a secret), copies whose
 * password was masked, directories made.
 */
import { promises as fsp } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import * as path from 'node:path';
import { UserError } from '../errors.js';
import { sha256 } from '../hash.js';
import type { Host } from '../host/host.js';
import { fileDiff, linkDiff } from '../plan/filediff.js';
import { daemonReload, fileRemove, fileWrite, symlink } from '../plan/steps.js';
import { PLAN_FORMAT_VERSION, type ApplyReport, type Change, type Plan, type StepResult } from '../plan/types.js';
import { orderSteps } from '../plan/order.js';
import { VERSION } from '../version.js';
import { genericOps } from './ops.js';
import { Journal, JOURNAL_DIR } from './journal.js';
import { runStep } from './apply.js';

/** One `backup` line of a journal: what a path was before the apply first touched it. */
interface Backup {
  path: string;
  saved: string | null;
  masked?: boolean;
  existed: boolean;
  type: 'file' | 'symlink' | 'dir' | 'other' | null;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Where a symlink pointed (journals before this field kept no target). */
  target?: string | null;
}

export interface JournalRead {
  /** The journal's directory name (a time stamp and a pid). */
  name: string;
  dir: string;
  start: Record<string, unknown>;
  /** Per path, the first backup: the state before this apply touched it. */
  backups: Backup[];
  steps: { id: string; op?: string; title: string; status: string }[];
  ended: boolean;
}

/** Journals under the root, oldest first (names sort by time). */
export async function listJournals(host: Host): Promise<string[]> {
  const dir = await host.realPath(JOURNAL_DIR).catch(() => null);
  if (!dir) return [];
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => /^\d{4}-\d\d-\d\dT[\w-]+$/.test(n)).sort();
}

/**
 * The named journal (its directory name, or a path ending in it), or the newest. A name is a
 * single path component of the journal directory: `../` cannot reach anything else.
 */
export async function readJournal(host: Host, name?: string): Promise<JournalRead> {
  const names = await listJournals(host);
  let chosen: string | undefined;
  if (name === undefined) {
    chosen = names.at(-1);
    if (!chosen) throw new UserError(`no apply journal under ${host.root === '/' ? '' : host.root}${JOURNAL_DIR}: nothing to roll back`);
  } else {
    const base = path.basename(name.replace(/\/+$/, ''));
    chosen = names.find((n) => n === base);
    if (!chosen) {
      const near = names.filter((n) => n.startsWith(base.slice(0, 10))).slice(-3);
      throw new UserError(`no journal "${name}" under ${JOURNAL_DIR}${near.length ? ` (there are: ${near.join(', ')})` : names.length ? ` (the newest is ${names.at(-1)}; list them with reconcile rollback --list)` : ''}`);
    }
  }
  const dir = path.join(await host.realPath(JOURNAL_DIR), chosen);
  const text = await fsp.readFile(path.join(dir, 'journal.jsonl'), 'utf8');
  const read: JournalRead = { name: chosen, dir, start: {}, backups: [], steps: [], ended: false };
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a line cut by a crash: the lines before it still count
    }
    if (entry.event === 'start') read.start = entry;
    else if (entry.event === 'backup' && typeof entry.path === 'string' && !seen.has(entry.path)) {
      seen.add(entry.path);
      read.backups.push(entry as unknown as Backup);
    } else if (entry.event === 'step') read.steps.push({ id: String(entry.id), op: typeof entry.op === 'string' ? entry.op : undefined, title: String(entry.title), status: String(entry.status) });
    else if (entry.event === 'end') read.ended = true;
  }
  return read;
}

/** The rollback of one journal as a Plan: a change per file that differs from its kept copy. */
export async function planRollback(host: Host, journal: JournalRead): Promise<Plan> {
  const changes: Change[] = [];
  const digests: Record<string, string> = {};
  const notUndone: string[] = [];
  const backedUp = new Set(journal.backups.map((b) => b.path));

  for (const b of journal.backups) {
    const address = `file[${b.path}]`;
    const stat = await host.lstat(b.path);
    const current = stat?.type === 'file' ? await host.read(b.path) : null;
    const currentLink = stat?.type === 'symlink' ? await host.readlink(b.path) : null;
    digests[address] = sha256(JSON.stringify({ type: stat?.type ?? null, sha: current === null ? null : sha256(current), link: currentLink, mode: stat?.mode, uid: stat?.uid, gid: stat?.gid }));
    const currentText = current === null ? null : current.toString('utf8');

    if (!b.existed) {
      // The apply created it: rolling back removes it (if it is still what the apply left).
      if (stat === null) continue;
      if (stat.type === 'dir') {
        notUndone.push(`${b.path}: is a directory now; not removed`);
        continue;
      }
      changes.push(change(address, 'delete', `remove ${b.path} (the apply created it)`, stat.type === 'file' ? fileDiff(b.path, currentText, null) : linkDiff(b.path, currentLink, null), [
        fileRemove({ path: b.path, before: current === null ? null : sha256(current) }),
      ]));
      continue;
    }
    if (b.type === 'symlink') {
      if (typeof b.target !== 'string') {
        notUndone.push(`${b.path}: was a symlink, and this journal did not record its target`);
        continue;
      }
      if (currentLink === b.target) continue;
      if (stat?.type === 'dir') {
        notUndone.push(`${b.path}: is a directory now; not replaced by the link`);
        continue;
      }
      if (stat?.type === 'file') {
        notUndone.push(`${b.path}: is a file now; put the link back by hand: ln -sfn ${b.target} ${b.path}`);
        continue;
      }
      changes.push(change(address, stat ? 'update' : 'create', `point ${b.path} at ${b.target} again`, linkDiff(b.path, currentLink, b.target), [
        symlink({ path: b.path, target: b.target, before: currentLink }),
      ]));
      continue;
    }
    if (b.type !== 'file' || b.saved === null) {
      notUndone.push(`${b.path}: was a ${b.type ?? 'path'} the journal kept no copy of`);
      continue;
    }
    const kept = await fsp.readFile(path.join(journal.dir, b.saved));
    if (b.masked) {
      notUndone.push(`${b.path}: its kept copy had a password masked; restoring it would lose the password (the copy is ${path.join(journal.dir, b.saved)})`);
      continue;
    }
    if (!isUtf8(kept)) {
      notUndone.push(`${b.path}: its kept copy is not text; copy it back by hand from ${path.join(journal.dir, b.saved)}`);
      continue;
    }
    if (stat !== null && stat.type !== 'file') {
      notUndone.push(`${b.path}: is a ${stat.type} now, not a file; not replaced`);
      continue;
    }
    const sameBytes = current !== null && current.equals(kept);
    const sameAttrs = stat !== null && (b.mode === undefined || stat.mode === b.mode) && (b.uid === undefined || stat.uid === b.uid) && (b.gid === undefined || stat.gid === b.gid);
    if (sameBytes && sameAttrs) continue;
    const keptText = kept.toString('utf8');
    const summary = sameBytes ? `restore the mode and owner of ${b.path}` : `restore ${b.path} as it was before the apply`;
    changes.push(change(address, stat ? 'update' : 'create', summary, fileDiff(b.path, currentText, keptText), [
      fileWrite({ path: b.path, content: keptText, mode: b.mode, uid: b.uid, gid: b.gid, before: current === null ? null : sha256(current) }),
    ]));
  }

  // Unit files put back mean nothing to systemd until it reloads them.
  const reload = changes.some((c) => c.address.startsWith('file[/etc/systemd/') || c.address.startsWith('file[/run/systemd/'));
  if (reload) changes.push(change('systemd', 'run', 'reload systemd so it reads the restored unit files', '', [daemonReload()], 'reload'));

  for (const s of journal.steps) {
    if (s.status !== 'done') continue;
    // Journals before `op` was recorded: the id's prefix says as much.
    const op = s.op ?? (s.id.startsWith('file:') ? 'file.write' : s.id.startsWith('dir:') ? 'dir.ensure' : 'exec');
    const file = /^file:(.*)$/.exec(s.id)?.[1];
    if (op.startsWith('file.') && file !== undefined && backedUp.has(file)) continue;
    if (op.startsWith('file.')) notUndone.push(`${s.title}: written without a kept copy (the file holds a secret)`);
    else if (op === 'dir.ensure') notUndone.push(`${s.title}: the directory stays`);
    else notUndone.push(`ran: ${s.title}`);
  }
  const warnings = notUndone.map((n) => `not undone: ${n}`);
  if (!journal.ended) warnings.unshift(`journal ${journal.name} has no end: that apply was interrupted; what it did before the interruption is rolled back`);

  const spec = journal.start.spec as Plan['spec'] | undefined;
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    tool: { name: 'reconcile', version: VERSION },
    host: typeof journal.start.host === 'string' ? journal.start.host : '?',
    root: host.root,
    createdAt: new Date().toISOString(),
    spec: { path: `rollback of ${journal.name}${spec?.path ? ` (${spec.path})` : ''}`, sha256: spec?.sha256 ?? '', git: spec?.git ?? null },
    changes,
    digests,
    managed: {},
    warnings,
  };
}

function change(address: string, action: Change['action'], summary: string, diff: string, steps: Change['steps'], risk: Change['risk'] = 'none'): Change {
  return { address, kind: 'rollback', action, risk, summary, diff, steps };
}

/**
 * Runs a rollback plan: the steps in order under the caller's lock, journaled, then the journal
 * read again, which must find every file as its kept copy. The generic file runners re-check each
 * file against what the plan saw, so a file edited since the plan is refused, not overwritten.
 */
export async function runRollback(
  host: Host,
  journal: JournalRead,
  plan: Plan,
  options: { lockToken?: number; signal?: AbortSignal; onStep?: (event: { index: number; total: number; title: string; result?: StepResult }) => void } = {},
): Promise<ApplyReport> {
  const steps = orderSteps(plan.changes);
  const servedBy = new Map<string, string[]>();
  for (const c of plan.changes) for (const s of c.steps) (servedBy.get(s.id) ?? servedBy.set(s.id, []).get(s.id)!).push(c.address);
  const own = await Journal.open(host, { rollbackOf: journal.name, host: plan.host, root: plan.root, lockToken: options.lockToken, changes: plan.changes.map((c) => c.address) });
  const results: StepResult[] = [];
  let stoppedBecause: string | undefined;
  try {
    host.backup = own.backup;
    for (const [index, step] of steps.entries()) {
      if (options.signal?.aborted) stoppedBecause ??= `interrupted (${String(options.signal.reason ?? 'signal')})`;
      if (stoppedBecause) {
        results.push({ id: step.id, title: step.title, addresses: servedBy.get(step.id) ?? [], status: 'not run', durationMs: 0 });
        continue;
      }
      options.onStep?.({ index, total: steps.length, title: step.title });
      const result = await runStep(step, servedBy.get(step.id) ?? [], genericOps, { host, timeoutMs: 120_000, secrets: new Map(), fencingToken: options.lockToken });
      await own.record({ event: 'step', id: step.id, title: step.title, status: result.status, error: result.error, durationMs: result.durationMs });
      options.onStep?.({ index, total: steps.length, title: step.title, result });
      results.push(result);
      if (result.status === 'failed') stoppedBecause = `step "${step.title}" failed`;
    }
  } finally {
    host.backup = undefined;
  }
  // Prove it: every file the rollback covers now holds its kept copy.
  const again = await planRollback(host, journal);
  const remaining = again.changes.filter((c) => c.kind === 'rollback' && c.address !== 'systemd');
  if (remaining.length && !stoppedBecause) stoppedBecause = `files still differ from the journal's copies after the rollback: ${remaining.map((c) => c.address).join(', ')}`;
  await own.record({ event: 'end', ok: !stoppedBecause, stoppedBecause, remaining: remaining.map((c) => c.address) });
  await own.close();
  return { plan, results, remaining, ok: !stoppedBecause, stoppedBecause, journal: own.dir, lockToken: options.lockToken };
}
