import type { Change, Step } from '../../plan/types.js';
import { editFile, type LineEdit } from '../../plan/filediff.js';
import { dirEnsure, dirRemoveIfEmpty, exec, fileWrite } from '../../plan/steps.js';
import { ANY_MOUNT } from '../mounts/ids.js';
import { EXPORTFS_ID, EXPORTS_FILE, EXPORTS_WRITE_ID } from './ids.js';
import { sha256 } from '../../hash.js';
import { SpecValueError } from '../../errors.js';
import { idOf } from '../../host/accounts.js';
import type { DiffInput, DiffOutput } from '../types.js';
import type { ExportSpec } from '../../spec/types.js';
import { effectiveOptions, familyOf, parseExports, renderEntry, type ExportEntry, type ExportsLine } from './parse.js';
import type { ExportsObserved } from './observe.js';
import { observedEntry, risk } from './risk.js';

export { EXPORTS_FILE };
const WRITE_ID = EXPORTS_WRITE_ID;

/**
 * The order of localeCompare, without building a collator per comparison (20,000 exports). Made
 * on first use: ICU's collator costs tens of milliseconds to build, and a converged plan sorts nothing.
 */
let collator: Intl.Collator | undefined;
const byAddress = { compare: (a: string, b: string) => (collator ??= new Intl.Collator()).compare(a, b) };

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
  const desiredByPath = new Map(desired.map((e) => [e.path, e]));
  const removedOwned = owned.map(addressPath).filter((p) => !inSpec.has(p));

  const byPath = new Map<string, ExportsLine[]>();
  for (const l of lines) if (l.entry) (byPath.get(l.entry.path) ?? byPath.set(l.entry.path, []).get(l.entry.path)!).push(l);
  const linesOf = (path: string) => byPath.get(path) ?? [];
  const plans: { address: string; path: string; action: Change['action']; summary: string; edit?: Edit; dirSteps: Step[]; notes: string[]; liveOnly?: boolean }[] = [];

  for (const e of desired) {
    const address = addressOf(e.path);
    const current = linesOf(e.path);
    const currentEntries = current.map((l) => l.entry!);
    if (e.state === 'absent') {
      if (current.length) {
        plans.push({ address, path: e.path, action: 'delete', summary: `remove the export of ${e.path} (clients lose access)`, edit: { remove: current }, dirSteps: [], notes: [] });
      }
      continue;
    }
    const want = desiredEntry(e);
    const dirSteps = directorySteps(e, observed, address, ['exports', desired.indexOf(e)]);
    const notes: string[] = [];
    const dirMissing = !observed.dirs[e.path];
    if (!current.length || dirMissing) creates[address] = [...(current.length ? [] : ['line']), ...(dirMissing ? ['directory'] : [])];
    if (!current.length) {
      plans.push({
        address, path: e.path, action: 'create',
        summary: `export ${e.path} to ${want.clients.map((c) => c.host).join(', ')}`,
        edit: { remove: [], text: renderEntry(want) }, dirSteps, notes,
      });
    } else if (!sameEntry(currentEntries, want)) {
      plans.push({
        address, path: e.path, action: 'update',
        summary: `change the clients or options of ${e.path}`,
        edit: { remove: current, text: renderEntry(want) }, dirSteps, notes,
      });
    } else if (dirSteps.length) {
      plans.push({ address, path: e.path, action: 'update', summary: `fix the owner or mode of ${e.path}`, dirSteps, notes });
    } else if (observedEntry(observed, address, e, offline).context.liveDiffers) {
      plans.push({ address, path: e.path, action: 'run', summary: `the kernel's export table differs from ${EXPORTS_FILE} for ${e.path}: re-export`, dirSteps: [], notes, liveOnly: true });
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
      address: addressOf(path), path, action: 'delete',
      summary: `remove the export of ${path}, no longer in the spec (clients lose access; ${rmdir ? 'the directory is removed only if empty' : 'the directory was there before reconcile and stays'})`,
      edit: { remove: current },
      dirSteps: rmdir ? [dirRemoveIfEmpty({ path }, { after: [EXPORTFS_ID, WRITE_ID] })] : [],
      notes: [],
    });
  }

  // One final file for all changes, and one diff of it that says whose lines are whose.
  const targeted = plans.filter((p) => input.targeted?.(p.address) ?? true);
  const edited = editFile(EXPORTS_FILE, observed.file, lineEdits(lines, targeted));
  const dirIds = targeted.flatMap((p) => p.dirSteps.filter((s) => s.op === 'dir.ensure').map((s) => s.id)).sort();
  const writeStep = fileWrite(
    { path: EXPORTS_FILE, content: edited.after, before: observed.file === null ? null : sha256(observed.file), ...(observed.file === null ? { mode: 0o644 } : {}) },
    { after: dirIds },
  );
  const exportfsStep = exec(['exportfs', '-ra'], { id: EXPORTFS_ID, live: true, after: [WRITE_ID] });

  const changes: Change[] = plans.map((p) => {
    const steps = [...p.dirSteps.filter((s) => s.op === 'dir.ensure')];
    if (p.edit) {
      steps.push(writeStep, exportfsStep);
    } else if (p.liveOnly) {
      steps.push(exportfsStep);
    }
    steps.push(...p.dirSteps.filter((s) => s.op !== 'dir.ensure'));
    // The risk is the kind's one judgement of (what the host has, what the spec wants), as in review.
    const want = desiredByPath.get(p.path);
    const { entry, context } = observedEntry(observed, p.address, want, offline);
    const { risk: level } = risk(entry, want, context);
    return { address: p.address, kind: 'exports', action: p.action, risk: level, summary: p.summary, diff: '', steps, ...(p.notes.length ? { notes: p.notes } : {}) };
  });

  const fileSha = observed.file === null ? null : sha256(observed.file);
  const observedByAddress: Record<string, unknown> = {};
  const rewrites = new Set(plans.filter((p) => p.edit).map((p) => p.address));
  const liveByPath = new Map<string, NonNullable<ExportsObserved['live']>>();
  for (const l of observed.live ?? []) (liveByPath.get(l.path) ?? liveByPath.set(l.path, []).get(l.path)!).push(l);
  for (const path of [...inSpec, ...removedOwned]) {
    const address = addressOf(path);
    const changed = rewrites.has(address);
    observedByAddress[address] = {
      lines: linesOf(path).map((l) => l.raw),
      dir: observed.dirs[path] ?? null,
      live: observed.live ? liveByPath.get(path) ?? [] : null,
      // A change that rewrites the file was computed from all of it.
      ...(changed ? { file: fileSha } : {}),
    };
  }
  return {
    changes: changes.sort((a, b) => byAddress.compare(a.address, b.address)),
    observedByAddress,
    managed: desired.filter((e) => e.state !== 'absent').map((e) => addressOf(e.path)),
    creates,
    ...(edited.file.diff ? { files: [edited.file] } : {}),
  };
}

/** One change's edit of /etc/exports: its lines removed, and its entry's line (in place of the first, or appended). */
interface Edit {
  remove: ExportsLine[];
  text?: string;
}

/**
 * Every change's edit as edits of physical lines (a line may hold continuations): the first of an
 * export's lines is rewritten in place, its duplicates dropped, a new export appended.
 */
function lineEdits(lines: ExportsLine[], plans: { address: string; edit?: Edit }[]): LineEdit[] {
  const startOf = new Map<ExportsLine, number>();
  let at = 0;
  for (const l of lines) {
    startOf.set(l, at);
    at += physicalLines(l.raw);
  }
  const out: LineEdit[] = [];
  for (const { address, edit } of plans) {
    if (!edit) continue;
    const insert = edit.text === undefined ? [] : edit.text.split('\n');
    edit.remove.forEach((l, k) => out.push({ owner: address, start: startOf.get(l)!, remove: physicalLines(l.raw), insert: k === 0 ? insert : [] }));
    if (!edit.remove.length && insert.length) out.push({ owner: address, start: at, remove: 0, insert });
  }
  return out;
}

/** Physical lines of a line as parsed: its newlines, and one more for an unterminated last line. */
function physicalLines(raw: string): number {
  return raw.split('\n').length - (raw.endsWith('\n') ? 1 : 0);
}

function directorySteps(e: ExportSpec, observed: ExportsObserved, address: string, at: (string | number)[]): Step[] {
  const stat = observed.dirs[e.path] ?? null;
  const d = e.directory ?? {};
  const resolve = (table: Record<string, number>, what: 'user' | 'group', v: string | number | undefined) => {
    if (v === undefined) return v;
    const id = idOf(table, v);
    if (id === undefined) throw new SpecValueError([...at, 'directory', what === 'user' ? 'owner' : 'group'], `${address}: ${what} "${v}" does not exist on the host (/etc/${what === 'user' ? 'passwd' : 'group'})`);
    return id;
  };
  const uid = resolve(observed.users, 'user', d.owner);
  const gid = resolve(observed.groups, 'group', d.group);
  const mode = parseMode(d.mode);
  if (stat && stat.type !== 'dir') throw new SpecValueError([...at, 'path'], `${address}: ${e.path} exists and is not a directory`);
  const matches = stat && (uid === undefined || stat.uid === uid) && (gid === undefined || stat.gid === gid) && (mode === undefined || stat.mode === mode);
  if (matches) return [];
  const what = [mode !== undefined ? `mode ${d.mode}` : '', d.owner !== undefined ? `owner ${d.owner}` : '', d.group !== undefined ? `group ${d.group}` : ''].filter(Boolean).join(', ');
  // After any mount: the directory to own and chmod may be a mount point (mount a disk, export it).
  return [dirEnsure({ path: e.path, mode, uid, gid }, { id: `exports.dir:${e.path}`, after: ANY_MOUNT, title: `${stat ? 'set' : 'create'} directory ${e.path}${what ? ` (${what})` : ''}` })];
}
