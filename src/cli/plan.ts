import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { planSpec } from '../apply/planner.js';
import { oneOf, parse } from './args.js';
import { commandHelp } from './docs.js';
import { UserError } from '../errors.js';
import { isPlanFile, savePlan } from '../plan/file.js';

export async function planCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('plan', argv);
  if (values.help) {
    process.stdout.write(commandHelp('plan'));
    return 0;
  }
  if (values.fleet) return (await import('./plan-fleet.js')).planFleetCommand(positionals, values);
  if (values.limit) throw new UserError('reconcile plan: --limit selects hosts of a fleet; give it with --fleet --facts DIR');
  if (positionals.length !== 1) throw new UserError(`reconcile plan: expected one SPEC, got ${positionals.length} (see reconcile plan --help)`);
  if (isPlanFile(positionals[0]!)) throw new UserError(`${positionals[0]}: this is a saved plan, not a spec; print it with: reconcile show ${positionals[0]} (or apply it with: reconcile apply ${positionals[0]})`);
  const format = oneOf('plan', 'format', values.format, ['text', 'json', 'markdown'] as const, 'text');
  if (values.facts && values.root) throw new UserError('reconcile plan: --facts and --root exclude each other (the snapshot carries the root it was recorded under)');
  const host = values.facts ? (await readSnapshot(values.facts)).host : undefined;
  // The spec's git provenance is one `git status` process: asked only when the output shows it
  // (JSON, Markdown, --verbose) or keeps it (--out), not for the text a converged host prints.
  const { plan: planned } = await planSpec(positionals[0]!, { root: values.root, strict: values.strict, host, createDigestKey: !!values.out, targets: values.target, memo: 'use', provenance: format !== 'text' || !!values.verbose || !!values.out });
  // A saved plan names its spec by absolute path (apply may run elsewhere); what is printed is what is saved, so `show` prints the same.
  const plan = values.out ? { ...planned, spec: { ...planned.spec, path: path.resolve(planned.spec.path) } } : planned;
  if (values.out) await savePlan(values.out, plan);
  // --quiet text prints nothing: the renderer (and the modules it loads) is not even loaded.
  if (!values.quiet || format !== 'text') process.stdout.write(await (await import('../render/plan.js')).renderPlanAs(plan, format, { noColor: !!values['no-color'], verbose: values.verbose }));
  if (values.out && !values.quiet) process.stderr.write(`plan saved to ${values.out}; apply it with: reconcile apply ${values.out}\n`);
  return plan.changes.length ? 2 : 0;
}

/** A snapshot made by `reconcile facts`, and a Host that answers from it only. */
export async function readSnapshot(file: string) {
  const { parseFacts, ReplayingHost } = await import('../host/facts.js');
  const text = await fsp.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UserError(`${file}: cannot read facts snapshot (${e.code ?? e.message})`);
  });
  const facts = parseFacts(text, file);
  return { facts, host: new ReplayingHost(facts, file) };
}
