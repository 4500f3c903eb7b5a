import type { Change, Risk, Step } from '../../plan/types.js';
import { fileDiff } from '../../plan/filediff.js';
import { sha256 } from '../../hash.js';
import { UserError } from '../../errors.js';
import type { DiffInput, DiffOutput } from '../types.js';
import type { ExportSpec } from '../../spec/types.js';
import { effectiveOptions, familyOf, parseExports, renderEntry, type ExportEntry, type ExportsLine } from './parse.js';
import type { ExportsObserved } from './observe.js';

export const EXPORTS_FILE = '/etc/exports';
const WRITE_ID = `file:${EXPORTS_FILE}`;
const EXPORTFS_ID = 'exec:exportfs -ra';

export const addressOf = (path: string) => `exports[${path}]`;
export const addressPath = (address: string) => address.slice('exports['.length, -1);

function desiredEntry(e: ExportSpec): ExportEntry {
  return { path: e.path, defaults: [], clients: e.clients.map((c) => ({ host: c.host, options: c.options ?? [] })) };
}

/** Clients in order (first match wins in exportfs), options as sets after line defaults. */
function sameEntry(a: ExportEntry[], b: ExportEntry): boolean {
  const norm = (entries: ExportEntry[]) =>
    JSON.stringify(entries.flatMap((e) => e.clients.map((c) => [c.host || '*', effectiveOptions(e.defaults, c.options)])));
  return norm(a) === norm([b]);
}

function parseMode(mode: string | undefined): number | undefined {
  return mode === undefined ? undefined : parseInt(mode, 8);
}

/**
 * The cases, per export path (desired × what /etc/exports holds):
 *   present, no line          -> create: add a line, ensure the directory, exportfs -ra
 *   present, different line   -> update: rewrite that line (and drop duplicates)
 *   present, same line        -> in sync, unless the directory or the live table differ
 *   absent, line(s)           -> delete the line(s), directory untouched
 *   owned, left the spec      -> delete the line(s) if reconcile created them, the directory
 *                                if it created that too and it is empty; a line it only edited
 *                                stays as it is (it stops managing it)
 */
export function diffExports(input: DiffInput<ExportsObserved>): DiffOutput {
  const { observed, spec, owned, offline } = input;
  // Owned means reconcile created something there; without a record of what, the line (see state.ts).
  const createdAt = (address: string) => input.created?.[address] ?? ['line'];
  const creates: Record<string, string[]> = {};
  const original = observed.file ?? '';
  const lines = parseExports(original);
  const desired = spec.exports ?? [];
  const inSpec = new Set(desired.map((e) => e.path));
  const removedOwned = owned.map(addressPath).filter((p) => !inSpec.has(p));

  const linesOf = (path: string) => lines.filter((l) => l.entry?.path === path);
  const plans: { address: string; path: string; action: Change['action']; risk: Risk; summary: string; edit?: (ls: ExportsLine[]) => ExportsLine[]; dirSteps: Step[]; notes: string[]; liveOnly?: boolean }[] = [];

  for (const e of desired) {
    const address = addressOf(e.path);
    const current = linesOf(e.path);
    const currentEntries = current.map((l) => l.entry!);
    if (e.state === 'absent') {
      if (current.length) {
        plans.push({ address, path: e.path, action: 'delete', risk: 'disruptive', summary: `remove the export of ${e.path} (clients lose access)`, edit: (ls) => ls.filter((l) => !current.includes(l)), dirSteps: [], notes: [] });
      }
      continue;
    }
    const want = desiredEntry(e);
    const dirSteps = directorySteps(e, observed, address);
    const notes: string[] = [];
    const dirMissing = !observed.dirs[e.path];
    if (!current.length || dirMissing) creates[address] = [...(current.length ? [] : ['line']), ...(dirMissing ? ['directory'] : [])];
    if (!current.length) {
      plans.push({
        address, path: e.path, action: 'create', risk: 'reload',
        summary: `export ${e.path} to ${want.clients.map((c) => c.host).join(', ')}`,
        edit: (ls) => appendLine(ls, renderEntry(want)), dirSteps, notes,
      });
    } else if (!sameEntry(currentEntries, want)) {
      plans.push({
        address, path: e.path, action: 'update', risk: 'reload',
        summary: `change the clients or options of ${e.path}`,
        edit: (ls) => replaceLines(ls, current, renderEntry(want)), dirSteps, notes,
      });
    } else if (dirSteps.length) {
      plans.push({ address, path: e.path, action: 'update', risk: 'none', summary: `fix the owner or mode of ${e.path}`, dirSteps, notes });
    } else if (!offline && observed.live && !liveMatches(observed, want)) {
      plans.push({ address, path: e.path, action: 'run', risk: 'reload', summary: `the kernel's export table differs from ${EXPORTS_FILE} for ${e.path}: re-export`, dirSteps: [], notes, liveOnly: true });
    }
  }

  // Owned exports that left the spec: take back what reconcile put there.
  for (const path of removedOwned) {
    const current = linesOf(path);
    const made = createdAt(addressOf(path));
    // A line someone else wrote stays, and so does the directory it exports.
    if (!current.length || !made.includes('line')) continue;
    const rmdir = made.includes('directory');
    plans.push({
      address: addressOf(path), path, action: 'delete', risk: 'disruptive',
      summary: `remove the export of ${path}, no longer in the spec (clients lose access; ${rmdir ? 'the directory is removed only if empty' : 'the directory was there before reconcile and stays'})`,
      edit: (ls) => ls.filter((l) => !current.includes(l)),
      dirSteps: rmdir ? [{ id: `rmdir:${path}`, op: 'dir.removeIfEmpty', title: `remove ${path} if empty`, after: [EXPORTFS_ID, WRITE_ID], args: { path } }] : [],
      notes: [],
    });
  }

  // One final file for all changes; each change shows only its own edit.
  let finalLines = lines;
  for (const p of plans) if (p.edit) finalLines = p.edit(finalLines);
  const finalText = finalLines.map((l) => l.raw).join('');
  const dirIds = plans.flatMap((p) => p.dirSteps.filter((s) => s.op === 'dir.ensure').map((s) => s.id)).sort();
  const writeStep: Step = {
    id: WRITE_ID, op: 'file.write', title: `write ${EXPORTS_FILE}`, after: dirIds,
    args: { path: EXPORTS_FILE, content: finalText, before: observed.file === null ? null : sha256(observed.file), ...(observed.file === null ? { mode: 0o644 } : {}) },
  };
  const exportfsStep: Step = { id: EXPORTFS_ID, op: 'exec', title: 'exportfs -ra', live: true, after: [WRITE_ID], args: { argv: ['exportfs', '-ra'] } };

  const changes: Change[] = plans.map((p) => {
    const steps = [...p.dirSteps.filter((s) => s.op === 'dir.ensure')];
    let diff = '';
    if (p.edit) {
      const own = p.edit(lines).map((l) => l.raw).join('');
      diff = fileDiff(EXPORTS_FILE, observed.file, own === '' && observed.file === null ? null : own);
      steps.push(writeStep, exportfsStep);
    } else if (p.liveOnly) {
      steps.push(exportfsStep);
    }
    steps.push(...p.dirSteps.filter((s) => s.op !== 'dir.ensure'));
    return { address: p.address, kind: 'exports', action: p.action, risk: p.risk, summary: p.summary, diff, steps, ...(p.notes.length ? { notes: p.notes } : {}) };
  });

  const fileSha = observed.file === null ? null : sha256(observed.file);
  const observedByAddress: Record<string, unknown> = {};
  for (const path of [...inSpec, ...removedOwned]) {
    const address = addressOf(path);
    const changed = changes.some((c) => c.address === address && c.diff);
    observedByAddress[address] = {
      lines: linesOf(path).map((l) => l.raw),
      dir: observed.dirs[path] ?? null,
      live: observed.live?.filter((l) => l.path === path) ?? null,
      // A change that rewrites the file was computed from all of it.
      ...(changed ? { file: fileSha } : {}),
    };
  }
  return {
    changes: changes.sort((a, b) => a.address.localeCompare(b.address)),
    observedByAddress,
    managed: desired.filter((e) => e.state !== 'absent').map((e) => addressOf(e.path)),
    creates,
  };
}

function appendLine(ls: ExportsLine[], text: string): ExportsLine[] {
  const out = [...ls];
  const last = out.at(-1);
  if (last && !last.raw.endsWith('\n')) out[out.length - 1] = { ...last, raw: `${last.raw}\n` };
  out.push({ raw: `${text}\n`, line: 0 });
  return out;
}

/** The first of an export's lines is rewritten in place; its duplicates are dropped. */
function replaceLines(ls: ExportsLine[], current: ExportsLine[], text: string): ExportsLine[] {
  const out: ExportsLine[] = [];
  for (const l of ls) {
    if (l === current[0]) out.push({ raw: `${text}${l.raw.endsWith('\n') ? '\n' : ''}`, line: l.line });
    else if (!current.includes(l)) out.push(l);
  }
  return out;
}

function directorySteps(e: ExportSpec, observed: ExportsObserved, address: string): Step[] {
  const stat = observed.dirs[e.path] ?? null;
  const d = e.directory ?? {};
  const resolve = (table: Record<string, number>, what: 'user' | 'group', v: string | number | undefined) => {
    if (v === undefined || typeof v === 'number') return v;
    if (/^\d+$/.test(v)) return Number(v);
    const id = table[v];
    if (id === undefined) throw new UserError(`${address}: ${what} "${v}" does not exist on the host (/etc/${what === 'user' ? 'passwd' : 'group'})`);
    return id;
  };
  const uid = resolve(observed.users, 'user', d.owner);
  const gid = resolve(observed.groups, 'group', d.group);
  const mode = parseMode(d.mode);
  if (stat && stat.type !== 'dir') throw new UserError(`${address}: ${e.path} exists and is not a directory`);
  const matches = stat && (uid === undefined || stat.uid === uid) && (gid === undefined || stat.gid === gid) && (mode === undefined || stat.mode === mode);
  if (matches) return [];
  const what = [mode !== undefined ? `mode ${d.mode}` : '', d.owner !== undefined ? `owner ${d.owner}` : '', d.group !== undefined ? `group ${d.group}` : ''].filter(Boolean).join(', ');
  // After any mount: the directory to own and chmod may be a mount point (mount a disk, export it).
  return [{ id: `exports.dir:${e.path}`, op: 'dir.ensure', after: ['mounts.mount:*', 'mounts.remount:*'], title: `${stat ? 'set' : 'create'} directory ${e.path}${what ? ` (${what})` : ''}`, args: { path: e.path, mode, uid, gid } }];
}

/**
 * exportfs -v prints only some option families (it omits `insecure`, for one); an option is
 * checked only when the live table shows its family at all.
 */
function liveMatches(observed: ExportsObserved, want: ExportEntry): boolean {
  const live = observed.live!.filter((l) => l.path === want.path);
  for (const c of want.clients) {
    const entry = live.find((l) => l.host === (c.host || '*'));
    if (!entry) return false;
    const liveByFamily = new Map(entry.options.map((o) => [familyOf(o), o]));
    for (const o of effectiveOptions([], c.options)) {
      const seen = liveByFamily.get(familyOf(o));
      if (seen !== undefined && seen !== o) return false;
    }
  }
  return true;
}
