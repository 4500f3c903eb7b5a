import { UserError } from '../errors.js';
import { readPlanFile } from '../plan/file.js';
import { renderPlanAs } from '../render/plan.js';
import { oneOf, parse } from './args.js';
import { commandHelp } from './docs.js';

export async function showCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('show', argv);
  if (values.help) {
    process.stdout.write(commandHelp('show'));
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
