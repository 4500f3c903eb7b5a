import type { Change, Step } from './types.js';

/**
 * The plan's steps once each, in an order that honours every `after` (stable otherwise). Steps
 * shared by several changes (one write of /etc/exports, one daemon-reload) must be equal.
 * Linear in the number of step references: a shared step is compared by identity first, and each
 * `prefix*` of `after` is resolved once.
 */
export function orderSteps(changes: readonly Change[]): Step[] {
  const steps = new Map<string, Step>();
  for (const c of changes) {
    for (const s of c.steps) {
      const seen = steps.get(s.id);
      if (seen === undefined) steps.set(s.id, s);
      else if (!sameValue(seen, s)) throw new Error(`internal: two different steps share the id ${s.id}`);
    }
  }
  const byPrefix = new Map<string, Step[]>();
  const withPrefix = (prefix: string) => {
    let list = byPrefix.get(prefix);
    if (!list) byPrefix.set(prefix, (list = [...steps.values()].filter((d) => d.id.startsWith(prefix))));
    return list;
  };
  const ordered: Step[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (s: Step) => {
    const st = state.get(s.id);
    if (st === 'done') return;
    if (st === 'visiting') throw new Error(`internal: steps depend on each other in a cycle at ${s.id}`);
    state.set(s.id, 'visiting');
    for (const dep of s.after ?? []) {
      if (dep.endsWith('*')) {
        for (const d of withPrefix(dep.slice(0, -1))) if (d.id !== s.id) visit(d);
      } else {
        const d = steps.get(dep);
        if (d) visit(d);
      }
    }
    state.set(s.id, 'done');
    ordered.push(s);
  };
  for (const s of steps.values()) visit(s);
  return ordered;
}

/** Deep equality of plain data, cheap when both sides share their parts (the usual case). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
