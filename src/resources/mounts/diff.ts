import type { Action, Change, Step } from '../../plan/types.js';
import type { DiffInput, DiffOutput } from '../types.js';
import { duplicateEntries, entryFor, fstabEdits, parseFstab, unquoteTag, type FstabEntry, type FstabFields } from './fstab.js';
import { addressOf, credentialsPath, CREDENTIALS_DIR, pathOfAddress, specMounts } from './observe.js';
import {
  isBind,
  isNetwork,
  liveOptionDrift,
  PER_MOUNT_FLAGS,
  resolveIds,
  sameFstabOptions,
  sameSourceAndType,
  splitOpt,
  type Ids,
} from './options.js';
import { maskOptionPasswords, refKey } from '../../spec/secrets.js';
import { credentialsContent, credentialsValueProblem } from './credentials.js';
import { sha256 } from '../../hash.js';
import { editFile, fileDiff, type FileDiff } from '../../plan/filediff.js';
import { SpecValueError, UserError } from '../../errors.js';
import { DAEMON_RELOAD_ID, daemonReload, dirEnsure, fileWrite } from '../../plan/steps.js';
import { mountStepId, remountStepId } from './ids.js';
import type { DesiredMount, LiveMount, MountSpec, MountsObserved } from './types.js';
import { entries as riskEntries, observedEntry, risk } from './risk.js';

/** A spec or fstab problem the user must fix; the message names the lines involved. */
export class MountsError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'MountsError';
  }
}

/** DiffOutput plus findings that are not changes (stale mounts in sync, foreign duplicates). */
export interface MountsDiffOutput extends DiffOutput {
  warnings: string[];
}

export const FSTAB = '/etc/fstab';
export const FSTAB_STEP_ID = `file:${FSTAB}`;

export { credentialsContent } from './credentials.js';

function optValue(options: string[], keys: string[]): string | undefined {
  for (const o of options) {
    const [k, v] = splitOpt(o);
    if (keys.includes(k)) return v;
  }
  return undefined;
}

function patch(file: string, before: string, after: string): string {
  return fileDiff(file, before, after, { context: 0 });
}

/** Where the credentials step gets its password at apply time: never carried in the plan. */
export type PasswordSource = { ref: string } | { fromFstab: string };

interface Plan1 {
  address: string;
  path: string;
  fstabEdit?: FstabFields | null;
  fstabBefore?: FstabEntry;
  steps: Step[];
  umountId?: string;
  credId?: string;
  parts: string[];
  action: Action;
  notes: string[];
  diffs: string[];
  observed: Record<string, unknown>;
}

/** A live mount as findmnt names it: `/dev/vda[/srv/old]` for a bind mount. */
function liveName(l: LiveMount): string {
  return l.root === '/' ? l.source : `${l.source}[${l.root}]`;
}

function staleNote(live: LiveMount, probe: { ms: number; error?: string }): string {
  const vers = optValue(live.superOptions, ['vers']);
  const server = /^(\/\/)?([^:/]+)[:/]/.exec(live.source)?.[2];
  const what = [server && `server ${server}`, vers && `${live.fsType} vers=${vers}`].filter(Boolean).join(', ');
  return `${live.path} is stale: ${probe.error ?? 'no answer'} (after ${probe.ms} ms${what ? `; ${what}` : ''}); steps touching it are refused at apply`;
}

interface ResolvedCredentials {
  /** The credentials file wanted: its bytes, what a diff shows, where the password comes from. */
  cred?: { content: string; shown: string; source: PasswordSource; username: string; domain?: string };
  /** The mount's options, naming the credentials file when there is one. */
  options: string[];
  note?: string;
}

/**
 * The credential resolver: where a CIFS mount's password comes from, per case (spec × fstab line):
 *   credentials in the spec                      -> our file, from the secret reference
 *   none in the spec, password= in the fstab line -> our file, the password moved out of fstab
 *   none, the line names our file and it exists   -> keep naming it (moved by an earlier apply)
 *   none of these, or state absent               -> no credentials file
 */
function resolveCredentials(
  m: MountSpec,
  state: string,
  F: FstabEntry | undefined,
  options: string[],
  ctx: { secrets: ReadonlyMap<string, string>; address: string; credPath: string; haveFile: boolean },
): ResolvedCredentials {
  const naming = (opts: string[]) => [...opts.filter((o) => splitOpt(o)[0] !== 'credentials'), `credentials=${ctx.credPath}`];
  if (state === 'absent') return { options };
  if (m.credentials) {
    const key = refKey(m.credentials.password);
    const secret = ctx.secrets.get(key);
    if (secret === undefined) throw new MountsError(`${ctx.address}: secret ${key} is not resolved`);
    const problem = credentialsValueProblem('password', secret);
    if (problem) throw new MountsError(`${ctx.address}: the password from ${key} ${problem}`);
    const c = { username: m.credentials.username, domain: m.credentials.domain };
    return { cred: { content: credentialsContent({ ...c, password: secret }), shown: credentialsContent({ ...c, password: '***' }), source: { ref: key }, ...c }, options: naming(options) };
  }
  const password = F ? optValue(F.options, ['password', 'pass']) : undefined;
  if (F && password !== undefined) {
    const c = { username: optValue(F.options, ['username', 'user']) ?? '', domain: optValue(F.options, ['domain', 'dom', 'workgroup']) };
    return {
      cred: { content: credentialsContent({ ...c, password }), shown: credentialsContent({ ...c, password: '***' }), source: { fromFstab: m.path }, ...c },
      options: naming(options),
      note: `the password in ${FSTAB} moves to ${ctx.credPath} (0600, root only)`,
    };
  }
  if (F && optValue(F.options, ['credentials', 'cred']) === ctx.credPath && ctx.haveFile) return { options: naming(options) };
  return { options };
}

/**
 * The fstab case table, per mount point (state wanted × the fstab line):
 *   absent, a line           -> remove the line
 *   absent, no line          -> nothing
 *   not absent, no line      -> add the line
 *   not absent, other line   -> rewrite the line (options compared as sets, names as ids)
 *   not absent, same line    -> nothing
 */
function fstabChange(state: string, F: FstabEntry | undefined, fields: FstabFields, ids: Ids): { edit: FstabFields | null; part: string } | null {
  if (state === 'absent') return F ? { edit: null, part: 'remove fstab entry' } : null;
  if (!F) return { edit: fields, part: 'add fstab entry' };
  const same =
    unquoteTag(F.source) === unquoteTag(fields.source) &&
    F.type === fields.type &&
    sameFstabOptions(resolveIds(F.options, ids).options, fields.options) &&
    (F.dump ?? 0) === (fields.dump ?? 0) &&
    (F.pass ?? 0) === (fields.pass ?? 0);
  return same ? null : { edit: fields, part: 'update fstab entry' };
}

/**
 * The table of cases, per mount point (state wanted × what fstab and the kernel show):
 *   fstab line missing/different/extra          -> write fstab (risk none)
 *   mounted,   not live                         -> mount (none)
 *   mounted,   live, other source or type       -> unmount + mount (disruptive)
 *   mounted,   live, other options              -> remount (reload); network fs params: unmount + mount
 *   unmounted, live                             -> unmount (disruptive)
 *   present                                     -> fstab only, live state untouched
 *   absent / created by reconcile, left the spec -> remove fstab line and our credentials file,
 *                                                 unmount if live (disruptive)
 *   edited by reconcile, left the spec           -> nothing: the line stays as it is (not in `owned`)
 */
export function diffMounts(input: DiffInput<MountsObserved>): MountsDiffOutput {
  const { observed, secrets } = input;
  const mounts = specMounts(input.spec);
  const warnings: string[] = [];
  const ids: Ids = observed.accounts ?? { users: {}, groups: {} };

  // The spec was validated (src/resources/mounts/validate.ts): each path once, credentials only for cifs.
  const seen = new Set(mounts.map((m) => m.path));

  const fstab = parseFstab(observed.fstab ?? '');
  const ownedPaths = input.owned.map(pathOfAddress).filter((p): p is string => p !== null && !seen.has(p));
  const managedPaths = new Set([...seen.keys(), ...ownedPaths]);
  for (const [path, entries] of duplicateEntries(fstab)) {
    const msg = `${FSTAB} lines ${entries.map((e) => e.line).join(' and ')} both mount ${path}`;
    if (managedPaths.has(path)) throw new MountsError(msg);
    warnings.push(`${msg} (not managed here)`);
  }

  const plans: Plan1[] = [];
  const creates: Record<string, string[]> = {};
  const probeOf = (path: string) => observed.probes?.[path];

  for (const m of mounts) plans.push(planOne(m));
  for (const path of ownedPaths) {
    const p = planRemoval(path);
    if (p) plans.push(p);
  }

  function planOne(m: MountSpec): Plan1 {
    const state = m.state ?? 'mounted';
    const address = addressOf(m.path);
    const F = entryFor(fstab, m.path);
    const L: LiveMount | undefined = observed.live[m.path];
    const p: Plan1 = { address, path: m.path, steps: [], parts: [], action: 'update', notes: [], diffs: [], observed: {} };
    p.observed = { fstab: F ? fstab.lines[F.line - 1]!.raw : null, live: L ?? null };

    const resolved = resolveIds(m.options ?? [], ids);
    if (resolved.unknown.length) {
      throw new SpecValueError(['mounts', mounts.indexOf(m), 'options'], `${address}: ${resolved.unknown.join(', ')}: no such user or group in /etc/passwd or /etc/group of the host`);
    }

    const credPath = credentialsPath(m.path);
    const { cred, options, note } = resolveCredentials(m, state, F, resolved.options, { secrets, address, credPath, haveFile: !!observed.credentials?.[credPath] });
    if (note) p.notes.push(note);

    const desired: DesiredMount = { path: m.path, source: m.source, type: m.type, options };
    const fields: FstabFields = {
      source: m.source,
      path: m.path,
      type: m.type,
      options: options.length ? options : ['defaults'],
      dump: m.dump ?? (F ? F.dump : 0),
      pass: m.pass ?? (F ? F.pass : 0),
    };

    const fstabCase = fstabChange(state, F, fields, ids);
    if (fstabCase) {
      p.fstabEdit = fstabCase.edit;
      p.parts.push(fstabCase.part);
      if (fstabCase.edit !== null && !F) creates[address] = ['fstab line'];
    }
    if (p.fstabEdit !== undefined) p.fstabBefore = F;

    // credentials file
    if (cred) {
      const have = observed.credentials?.[credPath] ?? null;
      p.observed.credentials = have;
      // Without the host's key (a plan from facts) the content cannot be compared: mode and owner are.
      const want = input.digest?.(cred.content) ?? null;
      const ok = have && (want === null || have.hmac === want) && have.mode === 0o600 && have.uid === 0 && have.gid === 0;
      if (!ok) {
        p.credId = `mounts.credentials:${credPath}`;
        p.steps.push(
          dirEnsure({ path: CREDENTIALS_DIR, mode: 0o700, uid: 0, gid: 0 }),
          {
            id: p.credId,
            op: 'mounts.credentials',
            title: `write ${credPath} (0600)`,
            after: [`dir:${CREDENTIALS_DIR}`],
            args: { path: credPath, username: cred.username, ...(cred.domain ? { domain: cred.domain } : {}), password: cred.source },
          },
        );
        p.parts.push('write credentials file');
        p.diffs.push(patch(credPath, have ? '(previous content not shown)\n' : '', cred.shown));
      }
    }

    if (state === 'absent') removeCredentials(p);

    // The live case table (state wanted × what the kernel has mounted there), below.
    const probe = probeOf(m.path);
    if (L && probe && !probe.ok) {
      const note = staleNote(L, probe);
      p.notes.push(note);
      warnings.push(note);
    }
    const lazy = m.lazyUnmount === true;
    // On a systemd host, mount after systemd has re-read fstab, or its old mount units fight ours.
    const reload = observed.systemd ? [DAEMON_RELOAD_ID] : [];
    const mountStep = (after: string[]): Step[] => [
      dirEnsure({ path: m.path }, { id: `mounts.dir:${m.path}`, title: `create mount point ${m.path}` }),
      {
        id: mountStepId(m.path),
        op: 'mounts.mount',
        title: `mount ${m.source} on ${m.path}`,
        after: [...after, `mounts.dir:${m.path}`, ...(p.credId ? [p.credId] : []), ...reload],
        args: { desired },
      },
    ];
    if (state === 'mounted' && !L) {
      // Want mounted, not mounted.
      p.steps.push(...mountStep([FSTAB_STEP_ID]));
      p.parts.push(`mount ${m.source} (${m.type})`);
      p.action = F ? 'update' : 'create';
    } else if (state === 'mounted' && L && !sameSourceAndType(desired, L, observed)) {
      // Want mounted, something else is mounted there: unmount + mount.
      p.umountId = `mounts.umount:${m.path}`;
      p.steps.push({ id: p.umountId, op: 'mounts.umount', title: `unmount ${liveName(L)} from ${m.path}`, args: { path: m.path, lazy } });
      p.steps.push(...mountStep([FSTAB_STEP_ID, p.umountId]));
      p.parts.push(`unmount ${liveName(L)} (${L.fsType}) and mount ${m.source} (${m.type})`);
      p.action = 'replace';
    } else if (state === 'mounted' && L) {
      // Want mounted, the same source and type are mounted: remount for options that differ.
      const drift = liveOptionDrift(options, L);
      const changed = [...drift.missing, ...drift.clear];
      if (changed.length) {
        const needsRemount = isNetwork(m.type) && changed.some((o) => !PER_MOUNT_FLAGS.has(splitOpt(o)[0]));
        if (needsRemount) {
          // NFS and CIFS ignore most parameters on remount: only a fresh mount applies them.
          p.umountId = `mounts.umount:${m.path}`;
          p.steps.push({ id: p.umountId, op: 'mounts.umount', title: `unmount ${m.path}`, args: { path: m.path, lazy } });
          p.steps.push(...mountStep([FSTAB_STEP_ID, p.umountId]));
          p.parts.push(`unmount and mount again for ${changed.join(',')}`);
          p.action = 'replace';
        } else {
          const remountOpts = remountOptions(desired, drift.clear);
          p.steps.push({
            id: remountStepId(m.path),
            op: 'mounts.remount',
            title: `remount ${m.path} with ${changed.join(',')}`,
            after: [FSTAB_STEP_ID, ...(p.credId ? [p.credId] : []), ...reload],
            args: { desired, options: remountOpts },
          });
          p.parts.push(`remount with ${changed.join(',')}`);
        }
      }
    } else if ((state === 'unmounted' || state === 'absent') && L) {
      // Want not mounted, mounted.
      p.umountId = `mounts.umount:${m.path}`;
      p.steps.push({ id: p.umountId, op: 'mounts.umount', title: `unmount ${m.path}${lazy ? ' (lazy)' : ''}`, args: { path: m.path, lazy } });
      p.parts.push(`unmount ${liveName(L)}`);
    }
    // Want present (fstab only), or mounted as wanted, or not mounted and not wanted: nothing live.
    if (state === 'absent') p.action = 'delete';
    else if (!F && p.action !== 'replace') p.action = 'create';
    return p;
  }

  function planRemoval(path: string): Plan1 | null {
    const F = entryFor(fstab, path);
    const L: LiveMount | undefined = observed.live[path];
    if (!F && !L && !observed.credentials?.[credentialsPath(path)]) return null;
    const p: Plan1 = {
      address: addressOf(path),
      path,
      steps: [],
      parts: [],
      action: 'delete',
      notes: ['no longer in the spec'],
      diffs: [],
      observed: { fstab: F ? fstab.lines[F.line - 1]!.raw : null, live: L ?? null },
    };
    if (F) {
      p.fstabEdit = null;
      p.fstabBefore = F;
      p.parts.push('remove fstab entry');
    }
    removeCredentials(p);
    if (L) {
      p.umountId = `mounts.umount:${path}`;
      p.steps.push({ id: p.umountId, op: 'mounts.umount', title: `unmount ${path}`, args: { path, lazy: false } });
      p.parts.push(`unmount ${liveName(L)}`);
      const probe = probeOf(path);
      if (probe && !probe.ok) {
        const note = staleNote(L, probe);
        p.notes.push(note);
        warnings.push(note);
      }
    }
    return p;
  }

  /**
   * The mount goes: so does the credentials file reconcile wrote for it (its path is ours by
   * convention, under CREDENTIALS_DIR), or the password outlives the mount. Removed after the
   * fstab line that names it and after the unmount; never through the journal (see the step).
   */
  function removeCredentials(p: Plan1): void {
    const credPath = credentialsPath(p.path);
    const have = observed.credentials?.[credPath];
    if (!have) return;
    p.observed.credentials = have;
    p.steps.push({
      id: `mounts.credentials.remove:${credPath}`,
      op: 'mounts.credentials.remove',
      title: `remove ${credPath}`,
      after: [FSTAB_STEP_ID, `mounts.umount:${p.path}`],
      args: { path: credPath, before: have.hmac },
    });
    p.parts.push('remove credentials file');
    p.diffs.push(patch(credPath, '(previous content not shown)\n', ''));
  }

  // One fstab write serves every change: same id, same bytes, after every unmount and credentials step.
  const edits = new Map<string, FstabFields | null>();
  const targeted = input.targeted ?? (() => true);
  for (const p of plans) if (p.fstabEdit !== undefined && targeted(p.address)) edits.set(p.path, p.fstabEdit);
  let fstabStep: Step | undefined;
  const files: FileDiff[] = [];
  if (edits.size > 0) {
    // One diff of fstab for every change, against the file as it is; passwords masked as shown.
    const edited = editFile(FSTAB, observed.fstab, fstabEdits(fstab, edits, addressOf), { mask: maskOptionPasswords });
    if (edited.file.diff) files.push(edited.file);
    const after = [
      ...plans.filter((p) => targeted(p.address)).map((p) => p.umountId).filter((x): x is string => !!x),
      ...plans.filter((p) => targeted(p.address)).map((p) => p.credId).filter((x): x is string => !!x),
    ];
    fstabStep = fileWrite({ path: FSTAB, content: edited.after, before: observed.fstab === null ? null : sha256(observed.fstab) }, { id: FSTAB_STEP_ID, ...(after.length ? { after } : {}) });
  }

  // The kind's one judgement of (what the host has, what the spec wants), as review makes it.
  const desiredByAddress = new Map(riskEntries(input.spec));
  const judge = (address: string) => {
    const { entry, context } = observedEntry(observed, address, desiredByAddress.get(address));
    return risk(entry, desiredByAddress.get(address), context).risk;
  };
  const changes: Change[] = [];
  const observedByAddress: Record<string, unknown> = {};
  for (const p of plans) {
    observedByAddress[p.address] = p.observed;
    if (p.fstabEdit === undefined && p.steps.length === 0) continue;
    let steps = p.steps;
    if (p.fstabEdit !== undefined && fstabStep) {
      (p.observed as Record<string, unknown>).fstabSha256 = observed.fstab === null ? null : sha256(observed.fstab);
      // Order within the change: credentials, unmount, fstab, mount point, mount or remount.
      const firstMountish = steps.findIndex((s) => s.id === `mounts.dir:${p.path}` || s.op === 'mounts.remount');
      const at = firstMountish < 0 ? steps.length : firstMountish;
      steps = [...steps.slice(0, at), fstabStep, ...steps.slice(at)];
      if (observed.systemd) steps.push(daemonReload());
    }
    changes.push({
      address: p.address,
      kind: 'mounts',
      action: p.action,
      risk: judge(p.address),
      summary: `${p.path}: ${p.parts.join(', ')}`,
      diff: p.diffs.filter(Boolean).join(''),
      steps,
      ...(p.notes.length ? { notes: p.notes } : {}),
    });
  }
  const managed = mounts.filter((m) => (m.state ?? 'mounted') !== 'absent').map((m) => addressOf(m.path));
  return { changes, observedByAddress, managed, warnings, creates, ...(files.length ? { files } : {}) };
}

/** Options for `mount -o remount,…`: the whole wanted set, plus what clears unwanted live flags. */
function remountOptions(d: DesiredMount, clear: string[]): string[] {
  const keep = d.options.filter((o) => {
    const k = splitOpt(o)[0];
    if (isNetwork(d.type)) return PER_MOUNT_FLAGS.has(k);
    return !['loop', 'offset', 'sizelimit', 'defaults', 'noauto', 'auto', 'nofail', '_netdev'].includes(k) && !k.startsWith('x-');
  });
  const out = [...(isBind(d.options) ? ['bind'] : []), ...keep.filter((o) => o !== 'bind' && o !== 'rbind'), ...clear];
  return [...new Set(out)];
}
