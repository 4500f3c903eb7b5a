import { isDeepStrictEqual } from 'node:util';
import type { Risk } from '../plan/types.js';
import type { HostSpec } from '../spec/types.js';
import { KIND_ENTRIES, type KindEntry } from '../resources/registry.js';
import type { KindRisk } from '../resources/types.js';
import { at, type Assessed } from '../resources/types.js';

export type { Assessed } from '../resources/types.js';

/**
 * The risk a spec change carries, judged from the spec alone (no host): each kind's own `risk`
 * (src/resources/<kind>/risk.ts), the function its plan uses too, called here with the entry at
 * the base and at head and no live context, so it answers the worse case where the host decides.
 */
export interface ReviewedChange {
  address: string;
  kind: string;
  change: 'added' | 'removed' | 'changed';
  risk: Risk;
  reasons: string[];
}

/** Keys of the spec that belong to no kind: how reconcile runs, not what the host holds. */
const COMMON_KEYS = ['lock', 'watchdog', 'ignoreDrift'] as const;
const settingRisk = (): Assessed => at('none', 'setting changed');

type Judge = (before: unknown, after: unknown) => Assessed;

/** A spec's resources by the planner's addresses, each with the function that judges its change. */
function entriesOf(spec: HostSpec | undefined, kinds: [KindEntry, KindRisk][]): Map<string, { kind: string; value: unknown; risk: Judge }> {
  const out = new Map<string, { kind: string; value: unknown; risk: Judge }>();
  if (!spec) return out;
  for (const [entry, r] of kinds) for (const [address, value] of r.entries(spec)) out.set(address, { kind: entry.name, value, risk: (b, a) => r.risk(b, a) });
  for (const key of COMMON_KEYS) if (spec[key] !== undefined) out.set(key, { kind: 'settings', value: spec[key], risk: settingRisk });
  return out;
}

/** Every resource added, removed or changed between two versions of a spec, with its risk. */
export async function reviewSpecs(before: HostSpec | undefined, after: HostSpec | undefined): Promise<ReviewedChange[]> {
  const used = KIND_ENTRIES.filter((k) => k.keys.some((key) => before?.[key] !== undefined || after?.[key] !== undefined));
  const kinds = await Promise.all(used.map(async (k) => [k, await k.risk()] as [KindEntry, KindRisk]));
  const b = entriesOf(before, kinds);
  const a = entriesOf(after, kinds);
  const out: ReviewedChange[] = [];
  for (const address of new Set([...b.keys(), ...a.keys()])) {
    const x = b.get(address);
    const y = a.get(address);
    if (x && y && isDeepStrictEqual(x.value, y.value)) continue;
    const entry = (y ?? x)!;
    const { risk, reasons } = entry.risk(x?.value, y?.value);
    out.push({ address, kind: entry.kind, change: !x ? 'added' : !y ? 'removed' : 'changed', risk, reasons });
  }
  return out;
}
