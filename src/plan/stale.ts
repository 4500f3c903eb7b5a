import { UserError } from '../errors.js';
import { redact } from '../spec/secrets.js';
import { publicChange, publicStep } from './public.js';
import { orderSteps } from './order.js';
import type { Plan } from './types.js';

/** Names every resource whose observed state is not what the saved plan was computed from. */
export function refuseStale(saved: Plan, fresh: Plan): void {
  // Inside a fleet every file the merged spec was made from counts, and is named.
  const files = changedSources(saved, fresh);
  if (files.length) throw new UserError(`the saved plan is stale: ${files.join(', ')} changed since the plan was made; plan again`);
  if (saved.spec.sha256 !== fresh.spec.sha256) {
    throw new UserError(`the saved plan is stale: ${fresh.spec.path} changed since the plan was made; plan again`);
  }
  if (saved.root !== fresh.root) throw new UserError(`the saved plan was made for root ${saved.root}, not ${fresh.root}`);
  const addresses = new Set([...Object.keys(saved.digests), ...Object.keys(fresh.digests)]);
  const changed = [...addresses].filter((a) => saved.digests[a] !== fresh.digests[a]).sort();
  if (changed.length) {
    throw new UserError(`the saved plan is stale: the host changed since it was made, at ${changed.join(', ')}; plan again`);
  }
  // What runs must be what was reviewed: a secret, a user id or this tool can change the plan
  // without the host or the spec changing. Compared in the redacted form the plan file holds:
  // each change with its step ids, and each step once (a shared step counts for all its changes).
  const byAddress = (plan: Plan) => {
    const steps = new Map(orderSteps(plan.changes).map((s) => [s.id, redact(JSON.stringify(publicStep(s)))]));
    return new Map(plan.changes.map((c) => [c.address, { change: redact(JSON.stringify(publicChange(c))), steps: c.steps.map((s) => steps.get(s.id)) }]));
  };
  const was = byAddress(saved);
  const now = byAddress(fresh);
  const same = (a: string) => {
    const x = was.get(a);
    const y = now.get(a);
    return x !== undefined && y !== undefined && x.change === y.change && x.steps.every((s, i) => s === y.steps[i]);
  };
  const differ = [...new Set([...was.keys(), ...now.keys()])].filter((a) => !same(a)).sort();
  if (differ.length) {
    throw new UserError(`the saved plan is stale: planning again now gives other changes for ${differ.join(', ')}; review a new plan`);
  }
}

/** Sources (fragments, the host file, the inventory) whose bytes differ, added or gone since the saved plan. */
function changedSources(saved: Plan, fresh: Plan): string[] {
  const was = new Map((saved.spec.sources ?? []).map((s) => [s.path, s.sha256]));
  const now = new Map((fresh.spec.sources ?? []).map((s) => [s.path, s.sha256]));
  const changed = [...new Set([...was.keys(), ...now.keys()])].filter((p) => was.get(p) !== now.get(p)).sort();
  if ((saved.spec.fleet ?? null) !== (fresh.spec.fleet ?? null)) changed.push('the fleet inventory (fleet.yaml, inventory files)');
  return changed;
}
