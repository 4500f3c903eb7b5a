import type { Plan } from '../plan/types.js';
import { styleFor } from './style.js';

export type PlanFormat = 'text' | 'json' | 'markdown';

/** A plan in the format asked for: what `plan` prints and `show` prints of a saved plan, alike. Renderers load on demand. */
export async function renderPlanAs(plan: Plan, format: PlanFormat, options: { noColor?: boolean; verbose?: boolean } = {}): Promise<string> {
  if (format === 'json') return (await import('./json.js')).renderPlanJson(plan);
  if (format === 'markdown') return (await import('./markdown.js')).renderPlanMarkdown(plan);
  return (await import('./text.js')).renderPlanText(plan, styleFor(process.stdout, !!options.noColor), { verbose: options.verbose });
}
