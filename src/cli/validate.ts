import { formatDiagnostic, UserError } from '../errors.js';
import { loadHostSpec } from '../fleet/load.js';
import { parse } from './args.js';

export const VALIDATE_HELP = `usage: reconcile validate SPEC... [--root DIR] [--strict]
       reconcile validate --fleet [DIR] [--limit SEL] [--root DIR] [--strict]

Checks each spec: YAML syntax, the schema (schemas/host-spec.schema.json), semantic rules and the
security lint. Findings are printed as FILE:LINE:COL: message. A spec inside a fleet (fleet.yaml
between it and the repository root) is checked merged with its fragments.
  --root DIR   check host-dependent rules (tzdata) against DIR instead of /
  --strict     security lint findings are errors, not warnings
  --fleet      every host of the fleet around DIR (default: here): fleet.yaml, then each host's
               spec with its fragments merged, checked as a spec
  --limit SEL  with --fleet: report only these hosts' findings (web*, group:web, !web3,
               &group:dc1; comma-separated or repeated); every host is still read for the
               checks between hosts
exit 0 valid · 1 invalid`;

export async function validateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('validate', argv, { root: { type: 'string' }, strict: { type: 'boolean' }, fleet: { type: 'boolean' }, limit: { type: 'string', multiple: true } });
  if (values.fleet && !values.help) return validateFleetCommand(positionals, values);
  if (values.limit) throw new UserError('reconcile validate: --limit selects hosts of a fleet; give it with --fleet');
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${VALIDATE_HELP}\n`);
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
