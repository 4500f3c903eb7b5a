import { formatDiagnostic } from '../errors.js';
import { oneOf, parse } from './args.js';

export const SPEC_HELP = `usage: reconcile spec HOST|SPEC [--format yaml|json]

Prints the host's spec with its fragments merged (DESIGN §8.2): its groups' includes, its own
includes, then the file itself. YAML carries "# FILE:LINE" beside each entry and beside each
field another file said ("overrides FILE:LINE" when it replaced a value); --format json carries
"origins" (address or address.field -> FILE:LINE) and "sources". HOST is a host of the fleet
around the working directory (fleet.yaml at the repository root).
exit 0 · 1 error (FILE:LINE:COL: message)`;

export async function specCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('spec', argv, { format: { type: 'string' } });
  if (values.help || positionals.length !== 1) {
    process.stdout.write(`${SPEC_HELP}\n`);
    return values.help ? 0 : 1;
  }
  const format = oneOf('spec', 'format', values.format, ['yaml', 'json'] as const, 'yaml');
  const { mergeSpecArgument } = await import('../fleet/index.js');
  const { merged, diagnostics } = mergeSpecArgument(positionals[0]!);
  for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  if (!merged || diagnostics.some((d) => d.severity === 'error')) return 1;
  const render = await import('../fleet/render.js');
  if (format === 'json') process.stdout.write(`${JSON.stringify(render.mergedJson(merged), null, 2)}\n`);
  else process.stdout.write(render.renderMergedYaml(merged));
  return 0;
}
