import { formatDiagnostic } from '../errors.js';
import { loadAndValidate } from '../resources/validate.js';
import { parse } from './args.js';

export const VALIDATE_HELP = `usage: reconcile validate SPEC... [--root DIR] [--strict]

Checks each spec: YAML syntax, the schema (schemas/host-spec.schema.json), semantic rules and the
security lint. Findings are printed as FILE:LINE:COL: message.
  --root DIR   check host-dependent rules (tzdata) against DIR instead of /
  --strict     security lint findings are errors, not warnings
exit 0 valid · 1 invalid`;

export async function validateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('validate', argv, { root: { type: 'string' }, strict: { type: 'boolean' } });
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${VALIDATE_HELP}\n`);
    return values.help ? 0 : 1;
  }
  let failed = false;
  for (const file of positionals) {
    const { diagnostics } = await loadAndValidate(file, { root: values.root, strict: values.strict });
    for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
    if (diagnostics.some((d) => d.severity === 'error')) failed = true;
    else if (!values.quiet) process.stdout.write(`${file}: valid\n`);
  }
  return failed ? 1 : 0;
}
