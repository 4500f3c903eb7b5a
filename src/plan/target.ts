import { closest } from '../distance.js';
import { UserError } from '../errors.js';
import type { Change, Plan, Step } from './types.js';

/** Whether a --target names this address: the address itself, or a resource inside it (`units[a.service]` holds `units[a.service].dropins[x]`). */
export function targets(target: string, address: string): boolean {
  return address === target || address.startsWith(`${target}.`) || address.startsWith(`${target}[`);
}

/**
 * The plan limited to the changes of `--target` addresses (as the plan prints them). What a
 * target shares with the rest, and what it needs from it:
 * - A file several resources edit (fstab, exports) is made by the kind of the targeted resources'
 *   edits only (DiffInput.targeted): a target writes none of another resource's lines, so nothing
 *   unreviewed or half-prepared (an export line without its directory) is written.
 * - A shared step that only acts (one daemon-reload, one `exportfs -ra`) stays: the target's change
 *   holds it. It acts on what is on disk, which a target does not make worse.
 * - A step the target's steps declare they run after (an exact step id in `after`) that belongs
 *   only to a change left out is a warning: the target runs without it. Wildcards (`file:*`, every
 *   mount) order steps and are not dependencies.
 * Unknown addresses are an error with the nearest address the plan knows.
 */
export function targetPlan(plan: Plan, wanted: readonly string[]): Plan {
  const known = new Set([...Object.keys(plan.digests), ...Object.keys(plan.managed), ...plan.changes.map((c) => c.address)]);
  for (const t of wanted) {
    if ([...known].some((a) => targets(t, a))) continue;
    const near = closest(t, known);
    throw new UserError(`--target ${t}: no such resource in this plan${near ? ` (did you mean ${near}?)` : ''}; addresses are as the plan prints them, e.g. units[kafka.service], mounts[/mnt/x]`);
  }
  const hit = (address: string) => wanted.some((t) => targets(t, address));
  const kept = plan.changes.filter((c) => hit(c.address));
  const left = plan.changes.filter((c) => !hit(c.address));
  const warnings = [`--target ${wanted.join(', ')}: the plan is partial: ${kept.length} of ${plan.changes.length} changes; the rest stay pending`];
  warnings.push(...leftOutDependencies(kept, left));
  const keptAddresses = new Set(kept.map((c) => c.address));
  const only = <T>(record: Record<string, T> | undefined) => Object.fromEntries(Object.entries(record ?? {}).filter(([a]) => hit(a)));
  const creates = only(plan.creates);
  const files = (plan.files ?? []).filter((f) => Object.keys(f.lines).some((a) => keptAddresses.has(a)));
  const { creates: _c, files: _f, ...rest } = plan;
  return {
    ...rest,
    changes: kept,
    digests: only(plan.digests),
    ...(Object.keys(creates).length ? { creates } : {}),
    ...(files.length ? { files } : {}),
    warnings: [...plan.warnings, ...warnings],
    targets: [...wanted],
  };
}

function leftOutDependencies(kept: Change[], left: Change[]): string[] {
  const keptIds = new Set(kept.flatMap((c) => c.steps.map((s) => s.id)));
  const owner = new Map<string, { step: Step; address: string }>();
  for (const c of left) for (const s of c.steps) if (!keptIds.has(s.id)) owner.set(s.id, { step: s, address: c.address });
  const out: string[] = [];
  const seen = new Set<string>();
  for (const c of kept) {
    for (const s of c.steps) {
      for (const dep of s.after ?? []) {
        const o = owner.get(dep);
        const key = `${s.id}\0${dep}`;
        if (!o || dep.endsWith('*') || seen.has(key)) continue;
        seen.add(key);
        out.push(`--target: "${s.title}" (${c.address}) runs after "${o.step.title}" of ${o.address}, which is left out`);
      }
    }
  }
  return out;
}
