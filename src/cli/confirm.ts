import { RISKS, type Plan } from '../plan/types.js';
import { worstRisk } from '../render/files.js';

/**
 * What apply asks before it acts, by the plan's worst risk. From `restart` up (a service restart,
 * an unmount, data deleted) the answer is `yes` typed out, as Terraform asks: a reflexive `y` must
 * not restart production. Below (files, reloads) `y` or `yes` is enough. Anything else is no.
 */
export function confirmation(plan: Plan): { question: string; accepts: (answer: string) => boolean } {
  const worst = worstRisk(plan);
  const what = `${plan.changes.length} change${plan.changes.length === 1 ? '' : 's'} to ${plan.host}`;
  if (RISKS.indexOf(worst) >= RISKS.indexOf('restart')) {
    return { question: `Apply ${what}? The worst risk is ${worst}: type yes to go on: `, accepts: (a) => a.trim() === 'yes' };
  }
  return { question: `Apply ${what}? [y/N] `, accepts: (a) => /^y(es)?$/i.test(a.trim()) };
}
