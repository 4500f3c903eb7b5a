import { formatDiagnostic, UserError } from '../errors.js';
import { loadHostSpec } from '../fleet/load.js';
import { parse } from './args.js';
import { commandHelp } from './docs.js';

export async function validateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('validate', argv);
  if (values.fleet && !values.help) return validateFleetCommand(positionals, values);
  if (values.limit && !values.help) throw new UserError('reconcile validate: --limit selects hosts of a fleet; give it with --fleet');
  if (values.help || positionals.length === 0) {
    process.stdout.write(commandHelp('validate'));
    return values.help ? 0 : 1;
  }
  let failed = false;
  for (const file of positionals) {
    const options = { root: values.root, strict: values.strict };
    // A host file of a fleet is checked as what it means: merged with its groups' and its own includes.
    const { diagnostics } = await loadHostSpec(file, options);
    for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
    if (diagnostics.some((d) => d.severity === 'error')) failed = true;
    else if (!values.quiet) process.stdout.write(`${file}: valid\n`);
  }
  return failed ? 1 : 0;
}

/** `validate --fleet [DIR]`: apart from the per-file path above, which it leaves as it was. */
async function validateFleetCommand(positionals: string[], values: { root?: string; strict?: boolean; quiet?: boolean; limit?: string[] }): Promise<number> {
  if (positionals.length > 1) throw new UserError('reconcile validate --fleet: takes one directory at most (see reconcile validate --help)');
  const { validateFleet } = await import('../fleet/index.js');
  const { hosts, diagnostics, fleet } = validateFleet(positionals[0] ?? '.', { root: values.root, strict: values.strict, limit: values.limit });
  for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  const failed = diagnostics.some((d) => d.severity === 'error');
  if (!failed && !values.quiet) process.stdout.write(`${fleet.file.display}: ${hosts} host${hosts === 1 ? '' : 's'} valid\n`);
  return failed ? 1 : 0;
}
