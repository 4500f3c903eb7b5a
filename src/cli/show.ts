import { UserError } from '../errors.js';
import { readPlanFile } from '../plan/file.js';
import { renderPlanAs } from '../render/plan.js';
import { oneOf, parse } from './args.js';

export const SHOW_HELP = `usage: reconcile show PLANFILE [--format text|json|markdown]

Prints a plan saved by \`reconcile plan SPEC --out PLANFILE\`, exactly as plan printed it in that
format. Reads only the file: the host is not observed (apply PLANFILE checks it is still current).
  --format FORMAT  text (default), json (versioned, stable) or markdown (for a pull-request comment)
example: reconcile plan hosts/web1.yaml --out web1.plan && reconcile show web1.plan --format markdown
exit 0 the plan is in sync · 2 it holds changes · 1 error`;

export async function showCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('show', argv, { format: { type: 'string' } });
  if (values.help) {
    process.stdout.write(`${SHOW_HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UserError(`reconcile show: expected one PLANFILE, got ${positionals.length} (see reconcile show --help)`);
  const format = oneOf('show', 'format', values.format, ['text', 'json', 'markdown'] as const, 'text');
  const file = positionals[0]!;
  const plan = readPlanFile(file);
  if (!plan) throw new UserError(`${file}: not a saved plan (save one with: reconcile plan SPEC --out ${file})`);
  const text = await renderPlanAs(plan, format, { noColor: !!values['no-color'], verbose: values.verbose });
  if (!values.quiet || format !== 'text') process.stdout.write(text);
  // The same exit code as the plan that was saved: scripts can branch on a saved plan too.
  return plan.changes.length ? 2 : 0;
}
