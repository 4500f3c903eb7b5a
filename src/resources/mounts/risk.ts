import { isDeepStrictEqual } from 'node:util';
import { at, worst, type Assessed, type KindRisk } from '../types.js';
import type { MountSpec } from './types.js';
import { normalisePath } from './fstab.js';

export const entries: KindRisk<MountSpec>['entries'] = (spec) => (spec.mounts ?? []).map((m) => [`mounts[${normalisePath(m.path)}]`, m]);

export function risk(b: MountSpec | undefined, a: MountSpec | undefined): Assessed {
  const mounted = (m: MountSpec) => (m.state ?? 'mounted') === 'mounted';
  if (!b && a) return a.state === 'absent' || a.state === 'unmounted' ? at('disruptive', `state ${a.state}: unmounted if mounted`) : at('none', mounted(a) ? 'new mount, mounted' : 'new fstab line');
  if (b && !a) return mounted(b) ? at('disruptive', 'mount leaves the spec: unmounted and its fstab line removed') : at('none', 'fstab line removed');
  if (!b || !a) return at('none');
  const found: Assessed[] = [];
  if (mounted(b) && (a.state === 'unmounted' || a.state === 'absent')) found.push(at('disruptive', `state ${a.state}: unmounted`));
  if (b.source !== a.source || b.type !== a.type) found.push(at(mounted(a) ? 'disruptive' : 'none', `${b.source !== a.source ? 'source' : 'type'} changed: unmounted and mounted again`));
  if (!isDeepStrictEqual(b.options ?? [], a.options ?? [])) found.push(at(mounted(a) ? 'reload' : 'none', 'options changed: remounted in place'));
  if (!isDeepStrictEqual(b.credentials, a.credentials)) found.push(at('none', 'credentials file rewritten'));
  return found.length ? worst(found) : at('none', 'changed');
}
