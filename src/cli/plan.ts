import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { planSpec } from '../apply/planner.js';
import { renderPlanAs } from '../render/plan.js';
import { oneOf, parse } from './args.js';
import { UserError } from '../errors.js';
import { isPlanFile, savePlan } from '../plan/file.js';

export const PLAN_HELP = `usage: reconcile plan SPEC [--root DIR | --facts SNAPSHOT] [--format text|json|markdown] [--out PLANFILE] [--strict] [--target ADDRESS]...
       reconcile plan --fleet [DIR] --facts SNAPDIR [--limit SEL] [--format text|json|markdown] [--strict]

Observes the host, compares it with the spec and prints what apply would change: unified diffs,
steps, and the risk of each change. Nothing on the host is changed.
  --root DIR       DIR is the host's /: files are read under it; live-only actions are shown as skipped
  --format FORMAT  text (default), json (versioned, stable) or markdown (for a pull-request comment)
  --facts SNAPSHOT plan against facts recorded on the host by \`reconcile facts\` (CI), not this machine
  --out PLANFILE   save the plan; \`reconcile apply PLANFILE\` refuses it if the host changed since
  --strict         security lint findings are errors; with --fleet, a missing snapshot is an error
  --fleet          plan every host of the fleet around DIR (default: here) from SNAPDIR/<host>.json
                   (one \`reconcile facts\` snapshot per host), touching no host; lists hosts
                   without a snapshot and the age of each snapshot used
  --limit SEL      with --fleet: only these hosts (web*, group:web, !web3, &group:dc1; comma-separated
                   or repeated)
  --target ADDRESS only this resource's changes, as the plan prints it (units[kafka.service], mounts[/mnt/x]);
                   repeatable; a warning names what it shares with or needs from the rest
exit 0 in sync · 2 changes pending · 1 error`;

export async function planCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('plan', argv, {
    root: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    strict: { type: 'boolean' },
    facts: { type: 'string' },
    fleet: { type: 'boolean' },
    limit: { type: 'string', multiple: true },
    target: { type: 'string', multiple: true },
  });
  if (values.help) {
    process.stdout.write(`${PLAN_HELP}\n`);
    return 0;
  }
  if (values.fleet) return (await import('./plan-fleet.js')).planFleetCommand(positionals, values);
  if (values.limit) throw new UserError('reconcile plan: --limit selects hosts of a fleet; give it with --fleet --facts DIR');
  if (positionals.length !== 1) throw new UserError(`reconcile plan: expected one SPEC, got ${positionals.length} (see reconcile plan --help)`);
  if (isPlanFile(positionals[0]!)) throw new UserError(`${positionals[0]}: this is a saved plan, not a spec; print it with: reconcile show ${positionals[0]} (or apply it with: reconcile apply ${positionals[0]})`);
  const format = oneOf('plan', 'format', values.format, ['text', 'json', 'markdown'] as const, 'text');
  if (values.facts && values.root) throw new UserError('reconcile plan: --facts and --root exclude each other (the snapshot carries the root it was recorded under)');
  const host = values.facts ? (await readSnapshot(values.facts)).host : undefined;
  const { plan: planned } = await planSpec(positionals[0]!, { root: values.root, strict: values.strict, host, createDigestKey: !!values.out, targets: values.target });
  // A saved plan names its spec by absolute path (apply may run elsewhere); what is printed is what is saved, so `show` prints the same.
  const plan = values.out ? { ...planned, spec: { ...planned.spec, path: path.resolve(planned.spec.path) } } : planned;
  if (values.out) await savePlan(values.out, plan);
  // --quiet text prints nothing: the renderer (and the modules it loads) is not even loaded.
  if (!values.quiet || format !== 'text') process.stdout.write(await renderPlanAs(plan, format, { noColor: !!values['no-color'], verbose: values.verbose }));
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
