import { existsSync } from 'node:fs';
import { formatDiagnostic, UserError } from '../errors.js';
import { oneOf, parse } from './args.js';
import { commandHelp } from './docs.js';

export async function specCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('spec', argv);
  if (values.limit && !values.help) return specLimitCommand(positionals, values.limit, values.format);
  if (values.help || positionals.length !== 1) {
    process.stdout.write(commandHelp('spec'));
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

/** `spec --limit SEL`: each selected host's merged spec; a host that does not merge is reported and fails the command. */
async function specLimitCommand(positionals: string[], limit: string[], formatFlag: string | undefined): Promise<number> {
  if (positionals.length) throw new UserError('reconcile spec: give HOST|SPEC or --limit SEL, not both (see reconcile spec --help)');
  const format = oneOf('spec', 'format', formatFlag, ['yaml', 'json'] as const, 'yaml');
  const { openSelected, mergeSpecArgument } = await import('../fleet/index.js');
  const { open, hosts } = openSelected('.', limit, 'reconcile spec');
  const render = await import('../fleet/render.js');
  let failed = open.diagnostics.some((d) => d.severity === 'error');
  for (const d of open.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  const out: Record<string, unknown> = {};
  const docs: string[] = [];
  for (const h of hosts) {
    const { merged, diagnostics } = mergeSpecArgument(existsSync(h.spec) ? h.spec : h.name, open);
    // The inventory's own findings were said once above.
    for (const d of diagnostics.filter((x) => !open.diagnostics.includes(x))) process.stderr.write(`${formatDiagnostic(d)}\n`);
    if (!merged || diagnostics.some((d) => d.severity === 'error')) {
      failed = true;
      continue;
    }
    if (format === 'json') out[h.name] = render.mergedJson(merged);
    else docs.push(render.renderMergedYaml(merged));
  }
  process.stdout.write(format === 'json' ? `${JSON.stringify({ formatVersion: 1, hosts: out }, null, 2)}\n` : docs.join('---\n'));
  return failed ? 1 : 0;
}
