import { isDeepStrictEqual } from 'node:util';
import { at, worst, type Assessed, type KindRisk } from '../types.js';
import type { UnitSpec } from '../../spec/types.js';

export const entries: KindRisk<UnitSpec>['entries'] = (spec) => (spec.units ?? []).map((u) => [`units[${u.name}]`, u]);

/** ExecStart lines of a unit file, to name the change a reviewer cares about most. */
function execStart(content: string | undefined): string[] {
  return (content ?? '').split('\n').filter((l) => /^\s*ExecStart\s*=/.test(l)).map((l) => l.trim());
}

export function risk(b: UnitSpec | undefined, a: UnitSpec | undefined): Assessed {
  // Added: a new unit only starts; managing an existing unit's drop-ins restarts it if running.
  if (!b && a) {
    if (a.masked) return at('disruptive', 'masked: stopped if running');
    if (a.state === 'stopped' || a.state === 'absent') return at('disruptive', `state ${a.state}: stopped if running`);
    if (!a.content && a.dropins && Object.keys(a.dropins).length) return at('restart', 'drop-ins added to an existing unit: restarted if running');
    return at('none', a.state === 'running' ? 'new unit, started' : 'new unit');
  }
  // Removed: reconcile takes back the unit file and its enablement.
  if (b && !a) {
    if (b.content || b.state === 'running') return at('disruptive', 'unit leaves the spec: its file and enablement are removed, it stops');
    return at('none', 'unit leaves the spec');
  }
  if (!b || !a) return at('none');
  const found: Assessed[] = [];
  if (b.state !== a.state && (a.state === 'stopped' || a.state === 'absent')) found.push(at('disruptive', `state ${b.state ?? 'unmanaged'} -> ${a.state}: stopped`));
  if (!b.masked && a.masked) found.push(at('disruptive', 'masked: stopped'));
  const contentChanged = b.content !== a.content;
  const dropinsChanged = !isDeepStrictEqual(b.dropins ?? {}, a.dropins ?? {});
  if ((contentChanged || dropinsChanged) && a.state !== 'stopped' && a.state !== 'absent') {
    const what = [
      ...(contentChanged && !isDeepStrictEqual(execStart(b.content), execStart(a.content)) ? ['ExecStart changed'] : contentChanged ? ['unit file changed'] : []),
      ...(dropinsChanged ? ['drop-ins changed'] : []),
    ].join(', ');
    const running = a.state === 'running' ? 'running' : 'if running';
    found.push(a.onChange === 'reload' ? at('reload', `${what}: reloaded (${running})`) : at('restart', `${what}: restarted (${running})`));
  }
  // The same risks the units kind plans for these actions.
  if (b.state !== a.state && a.state === 'running') found.push(at('reload', 'started'));
  if (b.enabled !== a.enabled) found.push(a.enabled ? at('reload', 'enabled at boot') : at('disruptive', 'disabled at boot'));
  if (b.masked && !a.masked) found.push(at('none', 'unmasked'));
  return found.length ? worst(found) : at('none', 'changed');
}
