import type { Action, Change, Risk, Step } from '../../plan/types.js';
import { fileDiff, linkDiff } from '../../plan/filediff.js';
import { sha256 } from '../../hash.js';
import { SpecValueError, UserError } from '../../errors.js';
import type { UnitSpec } from '../../spec/types.js';
import type { DiffInput, DiffOutput } from '../types.js';
import { DAEMON_RELOAD_ID, daemonReload, dirRemoveIfEmpty, fileRemove, fileWrite, symlink } from '../../plan/steps.js';
import { addressOf, basename, dropinDir, dropinPath, isTemplate, nameOfAddress, templateOf, unitPath } from './paths.js';
import { enablementLinks, linksToRemove, sameUnitFile, type Fragment } from './links.js';
import { hasInstall } from './unitfile.js';
import { isEnabled, isEnabledOrIndirect, isMasked, isRunning, type ManagerState } from './show.js';
import type { UnitFiles, UnitsObserved } from './observe.js';
import { observedEntry, risk } from './risk.js';

export type SystemctlVerb = 'enable' | 'reenable' | 'disable' | 'mask' | 'unmask' | 'start' | 'stop' | 'restart' | 'reload' | 'try-restart' | 'try-reload-or-restart';

/** Manager steps run after every enablement change, which run after the one daemon-reload. */
const ENABLEMENT_IDS = ['units:enable:*', 'units:reenable:*', 'units:disable:*', 'units:mask:*', 'units:unmask:*'];

const NO_FILES: UnitFiles = { unit: null, unitLink: null, dropins: {} };

/** A piece of the change's summary; its risk is the kind's risk function's (src/resources/units/risk.ts). */
interface Part {
  text: string;
}

/** Collects one unit's steps, diffs and summary parts. */
class UnitPlan {
  steps: Step[] = [];
  diffs: string[] = [];
  parts: Part[] = [];
  constructor(readonly name: string) {}
  add(step: Step, part?: Part, diff?: string) {
    this.steps.push(step);
    if (part) this.parts.push(part);
    if (diff) this.diffs.push(diff);
  }
  ids(prefix: string) {
    return this.steps.filter((s) => s.id.startsWith(prefix)).map((s) => s.id);
  }
}

/**
 * What reconcile keeps in /var/lib/reconcile/units.json is written by two shared steps, once per
 * apply whatever the number of units: `units:record` before any unit file is written (the files
 * it will own, the restart they will owe), `units:forget` after removals.
 */
const RECORD_ID = 'units:record';
const FORGET_ID = 'units:forget';
const recordId = (_name: string) => RECORD_ID;
const systemctlStep = (name: string, verb: SystemctlVerb, after: string[], wantState?: string): Step => ({
  id: `units:${verb}:${name}`,
  op: 'units.systemctl',
  title: `systemctl ${verb} ${name}`,
  live: true,
  after,
  args: { name, verb, ...(wantState ? { state: wantState } : {}) },
});

/**
 * The cases, per unit (desired × observed):
 *   content/drop-in differs or missing        -> write it (record first), daemon-reload
 *   drop-in recorded as ours, left the spec   -> remove it; other foreign drop-ins kept unless exclusiveDropins
 *   enabled: true, not enabled                -> enable (live: systemctl; --root: the [Install] symlinks)
 *   enabled: true, [Install] links differ     -> reenable (live) / fix the links (--root)
 *   enabled: false, enabled                   -> disable (disruptive)
 *   masked: true / false                      -> mask (disruptive) / unmask
 *   running wanted, not running               -> start
 *   running, its files changed or owed        -> restart (or reload with onChange: reload)
 *   stopped wanted, running                   -> stop (disruptive)
 *   owed a restart, nothing to restart        -> forget the debt
 *   state: absent, or owned and left the spec -> stop, disable, remove the files (disruptive);
 *                                               owned: only the files reconcile created (units.json)
 */
export function diffUnits({ spec, observed, owned, offline }: DiffInput<UnitsObserved>): DiffOutput {
  const units = spec.units ?? [];
  const live = observed.live && !offline;
  if (live && observed.managerError) throw new UserError(`units: cannot read the units' state from systemd: ${observed.managerError}`);
  const inSpec = new Set(units.map((u) => u.name));
  const changes: Change[] = [];
  const observedByAddress: Record<string, unknown> = {};
  const index = new Map(units.map((u, i) => [u.name, i] as const));
  const ctx: Ctx = { observed, live, offline, creates: {}, at: (name: string, key: string) => ['units', index.get(name) ?? 0, key] };

  for (const u of units) {
    const plan = u.state === 'absent' ? planRemoval(u.name, ctx, { spec: u }) : planPresent(u, ctx);
    if (plan) changes.push(plan);
    observedByAddress[addressOf(u.name)] = observedSlice(u.name, observed);
  }
  for (const address of owned) {
    const name = nameOfAddress(address);
    if (inSpec.has(name)) continue;
    const plan = planRemoval(name, ctx, {});
    if (plan) changes.push(plan);
    observedByAddress[address] = observedSlice(name, observed);
  }
  return {
    changes: mergeRecordSteps(changes),
    observedByAddress,
    managed: units.filter((u) => u.state !== 'absent').map((u) => addressOf(u.name)),
    creates: ctx.creates,
  };
}

/** Each change's own record entry, merged into the one shared step of its id (identical everywhere). */
function mergeRecordSteps(changes: Change[]): Change[] {
  const merged = new Map<string, Step>();
  for (const id of [RECORD_ID, FORGET_ID]) {
    const own = changes.flatMap((c) => c.steps.filter((s) => s.id === id));
    if (!own.length) continue;
    const entries: Record<string, { files: string[]; owe: string | null }> = {};
    for (const s of own) entries[s.args.name as string] = { files: s.args.files as string[], owe: (s.args.owe as string | null) ?? null };
    const after = [...new Set(own.flatMap((s) => s.after ?? []))].filter((a) => a !== RECORD_ID && a !== FORGET_ID).sort();
    const names = Object.keys(entries).sort();
    merged.set(id, {
      id,
      op: 'units.record',
      title: `${id === RECORD_ID ? 'record' : 'forget'} ${names.length === 1 ? names[0] : `${names.length} units`} in /var/lib/reconcile/units.json`,
      ...(after.length ? { after } : {}),
      args: { entries: Object.fromEntries(names.map((n) => [n, entries[n]])) },
    });
  }
  return changes.map((c) => ({ ...c, steps: c.steps.map((s) => merged.get(s.id) ?? s) }));
}

interface Ctx {
  observed: UnitsObserved;
  live: boolean;
  offline: boolean;
  /** Filled by planPresent: the files each unit's change creates (see DiffOutput.creates). */
  creates: Record<string, string[]>;
  /** Where a unit's key is in the spec, for errors a spec value runs into. */
  at(name: string, key: string): (string | number)[];
}

function fragmentOf(name: string, observed: UnitsObserved): Fragment | null {
  return observed.fragments[name] ?? (templateOf(name) ? observed.fragments[templateOf(name)!] ?? null : null);
}

function planPresent(u: UnitSpec, { observed, live, offline, creates, at }: Ctx): Change | null {
  const name = u.name;
  const p = new UnitPlan(name);
  const f = observed.files[name] ?? NO_FILES;
  const m: ManagerState | undefined = live ? observed.manager[name] : undefined;
  const record = observed.record.units[name];
  const rid = recordId(name);
  const isNew = f.unit === null && f.unitLink === null && u.content !== undefined;

  // Files: the unit file, the spec's drop-ins, drop-ins reconcile wrote that left the spec.
  const desiredFiles: string[] = [];
  if (u.content !== undefined) {
    const path = unitPath(name);
    desiredFiles.push(path);
    if (f.unitLink !== null) {
      p.add(fileRemove({ path, before: null }, { id: `file:unlink:${path}`, title: `remove the link ${path} -> ${f.unitLink}`, after: [rid] }), undefined, linkDiff(path, f.unitLink, null));
    }
    if (f.unit !== u.content) {
      p.add(
        fileWrite({ path, content: u.content, before: f.unit === null ? null : sha256(f.unit), ...(f.unit === null ? { mode: 0o644 } : {}) }, { after: [rid, ...p.ids('file:unlink:')] }),
        { text: f.unit === null ? 'write the unit file' : 'change the unit file' },
        fileDiff(path, f.unit, u.content),
      );
    }
  }
  const recordedFiles = new Set(record?.files ?? []);
  if (u.content === undefined && recordedFiles.has(unitPath(name)) && f.unit !== null) {
    // The spec stopped giving the content: reconcile's file goes, the packaged unit (if any) shows through.
    const path = unitPath(name);
    p.add(fileRemove({ path, before: sha256(f.unit) }, { after: [rid] }), { text: 'remove the unit file (no content in the spec)' }, fileDiff(path, f.unit, null));
  }
  const specDropins = u.dropins ?? {};
  for (const [file, content] of Object.entries(specDropins)) {
    const path = dropinPath(name, file);
    desiredFiles.push(path);
    const was = f.dropins[file] ?? null;
    if (was === content) continue;
    p.add(
      fileWrite({ path, content, before: was === null ? null : sha256(was), ...(was === null ? { mode: 0o644 } : {}) }, { after: [rid] }),
      { text: `${was === null ? 'add' : 'change'} drop-in ${file}` },
      fileDiff(path, was, content),
    );
  }
  for (const [file, content] of Object.entries(f.dropins)) {
    if (file in specDropins) continue;
    const path = dropinPath(name, file);
    if (!u.exclusiveDropins && !recordedFiles.has(path)) continue; // a foreign drop-in: not ours to remove
    p.add(
      fileRemove({ path, before: sha256(content) }, { after: [rid] }),
      { text: `remove drop-in ${file}${recordedFiles.has(path) ? '' : ' (not in the spec, exclusiveDropins)'}` },
      fileDiff(path, content, null),
    );
  }
  const filesChanged = p.steps.length > 0;

  const fragment = fragmentOf(name, observed);
  const needReload = filesChanged || (m?.needDaemonReload ?? false);
  if (needReload) {
    p.add(daemonReload(), filesChanged ? undefined : { text: 'systemd has not loaded the files on disk: daemon-reload' });
  }
  const managerAfter = [DAEMON_RELOAD_ID, ...p.steps.filter((s) => s.id.startsWith('file:')).map((s) => s.id)];

  // Masking.
  if (u.masked === true) {
    if (!live && f.unit !== null) throw new SpecValueError(at(name, 'masked'), `units[${name}]: cannot mask: ${unitPath(name)} is a unit file, not reconcile's (systemctl mask refuses too); remove it first`);
    if (live && m ? !isMasked(m) : f.unitLink !== '/dev/null') {
      const path = unitPath(name);
      if (live) p.add(systemctlStep(name, 'mask', managerAfter), { text: 'mask' });
      else p.add(symlink({ path, target: '/dev/null', before: f.unitLink }, { title: `mask ${name} (${path} -> /dev/null)` }), { text: 'mask' }, linkDiff(path, f.unitLink, '/dev/null'));
    }
  } else if (u.masked === false && (live && m ? isMasked(m) : f.unitLink === '/dev/null')) {
    const path = unitPath(name);
    if (live) p.add(systemctlStep(name, 'unmask', managerAfter), { text: 'unmask' });
    else if (u.content === undefined) p.add(fileRemove({ path, before: null }, { title: `unmask ${name} (remove ${path} -> /dev/null)` }), { text: 'unmask' }, linkDiff(path, '/dev/null', null));
  }

  // Enablement.
  if (u.enabled === true) {
    if (!fragment) throw new SpecValueError(at(name, 'enabled'), `units[${name}]: enabled: true, but there is no unit file for it (give content, or install the package that ships it)`);
    if (!hasInstall(fragment.install)) throw new SpecValueError(at(name, 'enabled'), `units[${name}]: enabled: true, but ${fragment.path} has no [Install] section (a static unit cannot be enabled)`);
    if (isTemplate(name) && !fragment.install.defaultInstance) throw new SpecValueError(at(name, 'enabled'), `units[${name}]: a template is enabled through DefaultInstance=, which ${fragment.path} does not set; name an instance instead`);
    const wanted = enablementLinks(name, observed.fragments);
    const missing = Object.entries(wanted).filter(([link, target]) => !sameUnitFile(observed.links[link], target));
    const stale = linksToRemove(name, observed.fragments, observed.links).filter((l) => !(l in wanted));
    if (live && m) {
      if (!isEnabledOrIndirect(m)) p.add(systemctlStep(name, 'enable', managerAfter), { text: 'enable' });
      else if (missing.length || stale.length) p.add(systemctlStep(name, 'reenable', managerAfter), { text: 'reenable ([Install] changed)' });
    } else {
      for (const [link, target] of missing) {
        p.add(symlink({ path: link, target, before: observed.links[link] ?? null }), undefined, linkDiff(link, observed.links[link] ?? null, target));
      }
      for (const link of stale) p.add(removeLinkStep(link, []), undefined, linkDiff(link, observed.links[link]!, null));
      if (missing.length || stale.length) p.parts.push({ text: 'enable' });
    }
  } else if (u.enabled === false) {
    if (live && m) {
      if (isEnabled(m)) p.add(systemctlStep(name, 'disable', managerAfter), { text: 'disable' });
    } else {
      const links = linksToRemove(name, observed.fragments, observed.links);
      for (const link of links) p.add(removeLinkStep(link, []), undefined, linkDiff(link, observed.links[link]!, null));
      if (links.length) p.parts.push({ text: 'disable' });
    }
  }

  // Running state: after every enablement change of the plan.
  const runAfter = [...managerAfter, ...ENABLEMENT_IDS];
  const onChange = u.onChange ?? 'restart';
  let owe: 'restart' | 'reload' | undefined;
  let acted = false;
  if (live && m && !isTemplate(name)) {
    const running = isRunning(m);
    const owed = filesChanged || record?.owe !== undefined;
    if (u.state === 'running' && !running) {
      if (!fragment && m.loadState === 'not-found') throw new SpecValueError(at(name, 'state'), `units[${name}]: state: running, but there is no unit file for it (give content, or install the package that ships it)`);
      p.add(systemctlStep(name, 'start', runAfter), { text: `start (${m.activeState || 'not loaded'})` });
      acted = true;
    } else if (u.state === 'stopped' && running) {
      p.add(systemctlStep(name, 'stop', runAfter), { text: 'stop' });
      acted = true;
    } else if (running && owed && u.state !== 'stopped') {
      const verb: SystemctlVerb = u.state === 'running' ? onChange : onChange === 'reload' ? 'try-reload-or-restart' : 'try-restart';
      const why = filesChanged ? 'its files changed' : `owed since an earlier apply`;
      p.add(systemctlStep(name, verb, runAfter), { text: `${onChange} (${why})` });
      owe = onChange;
      acted = true;
    }
  } else if (offline && filesChanged && u.state === 'running' && !isTemplate(name)) {
    // Not observable under --root; shown so the plan says what a live apply would do.
    const verb: SystemctlVerb = isNew ? 'start' : onChange;
    p.add(systemctlStep(name, verb, runAfter), { text: isNew ? 'start' : onChange });
  }

  // The record goes first: the files it lists and the restart they will owe.
  // Only files reconcile brings into being are recorded as its own (and removed when the unit
  // leaves the spec); a unit file or drop-in that was there before is edited, never taken.
  const exists = (path: string) => (path === unitPath(name) ? f.unit !== null || f.unitLink !== null : basename(path) in f.dropins);
  const ownFiles = desiredFiles.filter((path) => recordedFiles.has(path) || !exists(path)).sort();
  const filesDiffer = JSON.stringify([...(record?.files ?? [])].sort()) !== JSON.stringify(ownFiles);
  const debtStale = record?.owe !== undefined && !acted;
  if (filesChanged || (filesDiffer && record !== undefined) || debtStale) {
    p.steps.unshift({ id: rid, op: 'units.record', title: `record ${name} in /var/lib/reconcile/units.json`, args: { name, files: ownFiles, owe: owe ?? null } });
    if (debtStale && !filesChanged && !p.parts.length) p.parts.push({ text: 'forget a restart owed to a unit that is not running' });
  }
  const making = ownFiles.filter((path) => !exists(path));
  if (making.length) creates[addressOf(name)] = making;
  if (!p.steps.length) return null;
  if (!p.parts.length) p.parts.push({ text: 'update what reconcile records about it' });
  const action: Action = isNew ? 'create' : filesChanged || p.parts.some((x) => /able|mask/.test(x.text)) ? 'update' : 'run';
  return {
    address: addressOf(name),
    kind: 'units',
    action,
    risk: judge(name, u, observed, offline),
    summary: `${name}: ${p.parts.map((x) => x.text).join(', ')}`,
    diff: p.diffs.join(''),
    steps: p.steps,
  };
}

/** The kind's one judgement of (what the host has, what the spec wants), as review makes it. */
function judge(name: string, desired: UnitSpec | undefined, observed: UnitsObserved, offline: boolean): Risk {
  const { entry, context } = observedEntry(observed, addressOf(name), desired, offline);
  return risk(entry, desired, context).risk;
}

function removeLinkStep(link: string, after: string[]): Step {
  return fileRemove({ path: link, before: null }, { title: `remove the link ${link}`, after });
}

/**
 * `state: absent` (whoever created the unit) or an owned unit that left the spec (only what
 * reconcile recorded writing). Stop first, then disable, then remove files, then daemon-reload.
 */
function planRemoval(name: string, { observed, live }: Ctx, opts: { spec?: UnitSpec }): Change | null {
  const p = new UnitPlan(name);
  const f = observed.files[name] ?? NO_FILES;
  const m: ManagerState | undefined = live ? observed.manager[name] : undefined;
  const record = observed.record.units[name];
  const recorded = new Set(record?.files ?? []);
  const absent = opts.spec !== undefined;
  const path = unitPath(name);

  const removeFiles: { path: string; before: string | null; was: string | null; link?: string }[] = [];
  if ((absent || recorded.has(path)) && (f.unit !== null || f.unitLink !== null)) removeFiles.push({ path, before: f.unit === null ? null : sha256(f.unit), was: f.unit, link: f.unitLink ?? undefined });
  for (const [file, content] of Object.entries(f.dropins)) {
    const dp = dropinPath(name, file);
    const mine = recorded.has(dp) || (absent && (file in (opts.spec!.dropins ?? {}) || opts.spec!.exclusiveDropins));
    if (mine) removeFiles.push({ path: dp, before: sha256(content), was: content });
  }
  const unitGoes = removeFiles.some((r) => r.path === path);
  const stopIt = absent || unitGoes;

  if (stopIt && m && isRunning(m) && !isTemplate(name)) p.add(systemctlStep(name, 'stop', []), { text: 'stop' });
  const stopIds = p.ids('units:stop:');
  if (stopIt) {
    if (live && m) {
      if (isEnabled(m)) p.add(systemctlStep(name, 'disable', stopIds), { text: 'disable' });
    } else {
      const links = linksToRemove(name, observed.fragments, observed.links);
      for (const link of links) p.add(removeLinkStep(link, stopIds), undefined, linkDiff(link, observed.links[link]!, null));
      if (links.length) p.parts.push({ text: 'disable' });
    }
  }
  const before = [...stopIds, ...p.ids('units:disable:')];
  for (const r of removeFiles) {
    const title = r.link ? `remove the link ${r.path} -> ${r.link}` : `remove ${r.path}`;
    p.add(fileRemove({ path: r.path, before: r.before }, { title, after: before }), { text: r.path === path ? 'remove the unit file' : `remove drop-in ${basename(r.path)}` }, r.link ? linkDiff(r.path, r.link, null) : fileDiff(r.path, r.was, null));
  }
  const removedIds = p.ids('file:');
  if (removeFiles.some((r) => r.path !== path)) {
    p.add(dirRemoveIfEmpty({ path: dropinDir(name) }, { after: removedIds }));
  }
  if (removedIds.length) {
    p.add(daemonReload());
    // Drop-ins gone from a unit that stays: it runs on what is left.
    if (!unitGoes && m && isRunning(m)) p.add(systemctlStep(name, 'try-restart', [DAEMON_RELOAD_ID, ...removedIds]), { text: 'restart (its drop-ins changed)' });
  }
  if (record) p.add({ id: FORGET_ID, op: 'units.record', title: `forget ${name} in /var/lib/reconcile/units.json`, after: [...removedIds, ...p.ids('units:')], args: { name, files: [], owe: null } });
  if (!p.parts.length) return null;
  return {
    address: addressOf(name),
    kind: 'units',
    action: 'delete',
    risk: judge(name, opts.spec, observed, !live),
    summary: `${name}: ${absent ? '' : 'no longer in the spec: '}${p.parts.map((x) => x.text).join(', ')}`,
    diff: p.diffs.join(''),
    steps: p.steps,
  };
}

/** What the plan's digest of a unit covers: its files, links, manager state and record. */
function observedSlice(name: string, observed: UnitsObserved): unknown {
  const m = observed.manager[name];
  const fragment = fragmentOf(name, observed);
  const links = Object.fromEntries(Object.entries(observed.links).filter(([l, t]) => basename(l) === name || (fragment && t === fragment.path)));
  return {
    files: observed.files[name] ?? null,
    links,
    manager: m ? { loadState: m.loadState, activeState: m.activeState, unitFileState: m.unitFileState, needDaemonReload: m.needDaemonReload } : null,
    record: observed.record.units[name] ?? null,
  };
}
