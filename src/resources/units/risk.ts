import { isDeepStrictEqual } from 'node:util';
import { at, worst, type Assessed, type KindRisk } from '../types.js';
import type { UnitSpec } from '../../spec/types.js';
import type { UnitsObserved } from './observe.js';
import { dropinPath, isTemplate, templateOf, unitPath } from './paths.js';
import { enablementLinks, linksToRemove, sameUnitFile } from './links.js';
import { isEnabled, isMasked, isRunning } from './show.js';

export const entries: KindRisk<UnitSpec>['entries'] = (spec) => (spec.units ?? []).map((u) => [`units[${u.name}]`, u]);

/**
 * What only the host shows. Without it (review) the answer is the worst case: the unit may be
 * running, its files may differ.
 */
export interface UnitsRiskContext {
  /** Under --root: the manager is neither asked nor acted on (no start, stop or restart). */
  offline?: boolean;
  /** The plan writes or removes a file of the unit. */
  filesChanged?: boolean;
  /** An earlier apply changed the files and stopped before the restart it owed. */
  owed?: boolean;
  /** systemd has not loaded the files on disk. */
  needDaemonReload?: boolean;
  /** Enabled, but the [Install] links differ from what the file says: reenabled. */
  linksDiffer?: boolean;
}

/**
 * The unit on the host as a spec entry: its /etc file and drop-ins, and on a live host whether it
 * is enabled, masked and running. Undefined when there is no trace of it.
 */
export function observedEntry(observed: UnitsObserved, address: string, desired: UnitSpec | undefined, offline = false): { entry: UnitSpec | undefined; context: UnitsRiskContext } {
  const name = address.slice('units['.length, -1);
  const live = observed.live && !offline;
  const f = observed.files[name] ?? { unit: null, unitLink: null, dropins: {} };
  const m = live ? observed.manager[name] : undefined;
  const record = observed.record.units[name];
  const recorded = new Set(record?.files ?? []);
  const fragment = observed.fragments[name] ?? (templateOf(name) ? observed.fragments[templateOf(name)!] ?? null : null);
  const links = linksToRemove(name, observed.fragments, observed.links);
  const exists = f.unit !== null || f.unitLink !== null || Object.keys(f.dropins).length > 0 || !!fragment || (m !== undefined && m.loadState !== 'not-found');
  const entry: UnitSpec | undefined = exists
    ? {
        name,
        ...(f.unit !== null ? { content: f.unit } : {}),
        ...(Object.keys(f.dropins).length ? { dropins: f.dropins } : {}),
        enabled: m ? isEnabled(m) : links.length > 0,
        masked: m ? isMasked(m) : f.unitLink === '/dev/null',
        ...(m && !isTemplate(name) ? { state: isRunning(m) ? 'running' : 'stopped' } : {}),
      }
    : undefined;
  const context: UnitsRiskContext = { offline: !live, owed: record?.owe !== undefined, needDaemonReload: m?.needDaemonReload ?? false };
  if (desired && desired.state !== 'absent') {
    const dropins = desired.dropins ?? {};
    context.filesChanged =
      (desired.content !== undefined && (f.unit !== desired.content || f.unitLink !== null)) ||
      (desired.content === undefined && recorded.has(unitPath(name)) && f.unit !== null) ||
      Object.entries(dropins).some(([file, text]) => f.dropins[file] !== text) ||
      Object.keys(f.dropins).some((file) => !(file in dropins) && (desired.exclusiveDropins || recorded.has(dropinPath(name, file))));
    if (desired.enabled === true && fragment) {
      const wanted = enablementLinks(name, observed.fragments);
      context.linksDiffer = Object.entries(wanted).some(([link, target]) => !sameUnitFile(observed.links[link], target)) || links.some((l) => !(l in wanted));
    }
  }
  return { entry, context };
}

/** ExecStart lines of a unit file, to name the change a reviewer cares about most. */
function execStart(content: string | undefined): string[] {
  return (content ?? '').split('\n').filter((l) => /^\s*ExecStart\s*=/.test(l)).map((l) => l.trim());
}

export function risk(b: UnitSpec | undefined, a: UnitSpec | undefined, context?: UnitsRiskContext): Assessed {
  // Removed, or state: absent: stopped, disabled, its files taken back.
  if (!a || a.state === 'absent') {
    if (!b || b.state === 'absent') return at('none', 'no such unit');
    if (!a && !context && !b.content && !b.dropins && b.state !== 'running') return at('none', 'unit leaves the spec');
    return at('disruptive', a ? 'state absent: stopped, disabled, its files removed' : 'unit leaves the spec: its files and enablement are removed, it stops');
  }
  const found: Assessed[] = [];
  const live = !context?.offline;
  // Review knows no host: the unit may run (worst case); a plan knows.
  const wasRunning = context ? b?.state === 'running' : b?.state !== 'stopped';
  const filesChanged = context?.filesChanged ?? (!isDeepStrictEqual(b?.content, a.content) || !isDeepStrictEqual(b?.dropins ?? {}, a.dropins ?? {}));
  const onChange = a.onChange ?? 'restart';
  if (a.masked && !b?.masked) found.push(at('disruptive', 'masked: stopped'));
  if (a.masked === false && b?.masked) found.push(at('none', 'unmasked'));
  if (a.enabled === true && b?.enabled !== true) found.push(at('reload', 'enabled at boot'));
  else if (a.enabled === true && context?.linksDiffer) found.push(at('reload', 'reenabled: [Install] changed'));
  if (a.enabled === false && (context ? b?.enabled === true : b?.enabled !== false)) found.push(at('disruptive', 'disabled at boot'));
  if (context?.needDaemonReload && !filesChanged) found.push(at('reload', 'systemd has not loaded the files on disk: daemon-reload'));
  const removesUnitFile = b?.content !== undefined && a.content === undefined && (context ? !!context.filesChanged : true);
  if (removesUnitFile) found.push(at('restart', 'unit file removed: the packaged unit (if any) runs'));
  if (a.state === 'stopped') {
    if (wasRunning && live) found.push(at('disruptive', 'stopped'));
  } else if (a.state === 'running' && (!context || live) && (context ? b?.state !== 'running' : b?.state !== 'running')) {
    found.push(at('reload', b ? 'started' : 'new unit, started'));
  } else if (!isTemplate(a.name) && !live && a.state === 'running' && a.content !== undefined && b?.content === undefined) {
    found.push(at('reload', 'new unit, started'));
  } else if (!isTemplate(a.name) && (filesChanged || context?.owed) && (live ? wasRunning : a.state === 'running')) {
    const what = filesChanged
      ? [
          ...(b?.content !== a.content && a.content !== undefined ? [!isDeepStrictEqual(execStart(b?.content), execStart(a.content)) ? 'ExecStart changed' : 'unit file changed'] : []),
          ...(!isDeepStrictEqual(b?.dropins ?? {}, a.dropins ?? {}) ? ['drop-ins changed'] : []),
        ].join(', ') || 'its files changed'
      : 'owed by an earlier apply';
    const running = context ? 'running' : 'if running';
    found.push(onChange === 'reload' ? at('reload', `${what}: reloaded (${running})`) : at('restart', `${what}: restarted (${running})`));
  }
  if (filesChanged && !found.length) found.push(at('none', b?.content === undefined && a.content !== undefined ? 'new unit' : 'files changed'));
  return found.length ? worst(found) : at('none', 'changed');
}
