import { isDeepStrictEqual } from 'node:util';
import { at, worst, type Assessed, type KindRisk } from '../types.js';
import type { MountSpec, MountsObserved } from './types.js';
import { entryFor, normalisePath, parseFstab, type Fstab } from './fstab.js';
import { isNetwork, liveOptionDrift, PER_MOUNT_FLAGS, resolveIds, sameSourceAndType, splitOpt } from './options.js';

export const entries: KindRisk<MountSpec>['entries'] = (spec) => (spec.mounts ?? []).map((m) => [`mounts[${normalisePath(m.path)}]`, m]);

/** What only the host shows, beyond the spec-shaped entry. */
export interface MountsRiskContext {
  /** Something else is mounted there (source or type, loop files, bind sources and tags resolved). */
  replaced?: boolean;
  /** Options the live mount lacks or must clear. */
  optionDrift?: string[];
}

const parsed = new WeakMap<MountsObserved, Fstab>();

/**
 * The mount point on the host as a spec entry: the live mount (state mounted) or else its fstab
 * line (state present); undefined when neither has it. Context: whether the live mount is another
 * source, and which options it would change, judged as the diff judges them.
 */
export function observedEntry(observed: MountsObserved, address: string, desired: MountSpec | undefined): { entry: MountSpec | undefined; context: MountsRiskContext } {
  const path = address.slice('mounts['.length, -1);
  let fstab = parsed.get(observed);
  if (!fstab) parsed.set(observed, (fstab = parseFstab(observed.fstab ?? '')));
  const F = entryFor(fstab, path);
  const L = observed.live[path];
  const entry: MountSpec | undefined = L
    ? { path, source: L.source, type: L.fsType, options: L.mountOptions, state: 'mounted' }
    : F
      ? { path, source: F.source, type: F.type, options: F.options, state: 'present' }
      : undefined;
  const context: MountsRiskContext = {};
  if (L && desired && (desired.state ?? 'mounted') === 'mounted') {
    const options = resolveIds(desired.options ?? [], observed.accounts ?? { users: {}, groups: {} }).options;
    context.replaced = !sameSourceAndType({ path, source: desired.source, type: desired.type, options }, L, observed);
    const drift = liveOptionDrift(options, L);
    context.optionDrift = [...drift.missing, ...drift.clear];
  }
  return { entry, context };
}

const mounted = (m: MountSpec) => (m.state ?? 'mounted') === 'mounted';

/** Options in one list and not the other. */
function changedOptions(b: MountSpec, a: MountSpec): string[] {
  const x = new Set(b.options ?? []);
  const y = new Set(a.options ?? []);
  return [...[...x].filter((o) => !y.has(o)), ...[...y].filter((o) => !x.has(o))];
}

export function risk(b: MountSpec | undefined, a: MountSpec | undefined, context?: MountsRiskContext): Assessed {
  if (!a) return b && mounted(b) ? at('disruptive', 'mount leaves the spec: unmounted and its fstab line removed') : at('none', 'fstab line removed');
  if (a.state === 'absent' || a.state === 'unmounted') {
    return !b || mounted(b) ? at('disruptive', `state ${a.state}: unmounted${b ? '' : ' if mounted'}`) : at('none', `state ${a.state}`);
  }
  if (!mounted(a)) return at('none', 'fstab line only');
  if (!b || !mounted(b)) return at('none', 'new mount, mounted');
  const found: Assessed[] = [];
  const replaced = context ? !!context.replaced : b.source !== a.source || b.type !== a.type;
  if (replaced) found.push(at('disruptive', `${b.source !== a.source ? 'source' : 'type'} changed: unmounted and mounted again`));
  else {
    const drift = context ? (context.optionDrift ?? []) : changedOptions(b, a);
    // NFS and CIFS take most parameters only at mount time: a fresh mount, not a remount.
    if (drift.length && isNetwork(a.type) && drift.some((o) => !PER_MOUNT_FLAGS.has(splitOpt(o)[0]))) found.push(at('disruptive', `${drift.join(',')}: unmounted and mounted again`));
    else if (drift.length) found.push(at('reload', 'options changed: remounted in place'));
  }
  if (!context && !isDeepStrictEqual(b.credentials, a.credentials)) found.push(at('none', 'credentials file rewritten'));
  return found.length ? worst(found) : at('none', 'changed');
}
