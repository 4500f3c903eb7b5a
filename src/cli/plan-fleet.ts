/**
 * `reconcile plan --fleet [DIR] --facts SNAPDIR [--limit SEL]`: the plan of each selected host of the
 * fleet, each from SNAPDIR/<host>.json (a `reconcile facts` snapshot recorded on that host). It
 * touches no host: every observation is answered from the snapshot.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { planSpec } from '../apply/planner.js';
import { formatDiagnostic, SpecError, UserError } from '../errors.js';
import type { FleetPlan } from '../plan/fleet.js';
import { styleFor } from '../render/style.js';
import { oneOf } from './args.js';
import { readSnapshot } from './plan.js';

interface Flags {
  facts?: string;
  limit?: string[];
  format?: string;
  strict?: boolean;
  root?: string;
  out?: string;
  quiet?: boolean;
  verbose?: boolean;
  'no-color'?: boolean;
}

export async function planFleetCommand(positionals: string[], values: Flags): Promise<number> {
  if (positionals.length > 1) throw new UserError('reconcile plan --fleet: takes one directory at most (see reconcile plan --help)');
  if (!values.facts) throw new UserError('reconcile plan --fleet: give --facts DIR (a snapshot per host, DIR/<host>.json, made by reconcile facts); plan --fleet touches no host');
  if (values.root || values.out) throw new UserError(`reconcile plan --fleet: --${values.root ? 'root' : 'out'} is for one host's plan; plan --fleet reads every host from its snapshot`);
  const format = oneOf('plan', 'format', values.format, ['text', 'json', 'markdown'] as const, 'text');
  const factsDir = values.facts;
  if (!existsSync(factsDir)) throw new UserError(`reconcile plan --fleet: --facts ${factsDir}: no such directory`);
  const { openSelected } = await import('../fleet/index.js');
  const { open, hosts } = openSelected(positionals[0] ?? '.', values.limit, 'reconcile plan --fleet');
  if (open.diagnostics.some((d) => d.severity === 'error')) throw new SpecError(open.diagnostics);
  for (const d of open.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);

  const now = new Date();
  const fp: FleetPlan = { hosts: [], missing: [], errors: [], at: now.toISOString() };
  for (const h of hosts) {
    const file = path.join(factsDir, `${h.name}.json`);
    if (!existsSync(file)) {
      fp.missing.push({ host: h.name, file });
      continue;
    }
    try {
      const { facts, host } = await readSnapshot(file);
      const { plan } = await planSpec(h.spec, { host, strict: values.strict, fleet: open, now });
      const ageSeconds = Math.round((now.getTime() - Date.parse(facts.recordedAt)) / 1000);
      fp.hosts.push({ host: h.name, plan, snapshot: { file, recordedAt: facts.recordedAt, ageSeconds } });
    } catch (e) {
      // One host's broken spec or thin snapshot is that host's error; the others are still planned.
      if (!(e instanceof UserError)) throw e;
      fp.errors.push({ host: h.name, error: e.message });
    }
  }
  const render = await import('../render/fleet-plan.js');
  const text =
    format === 'json' ? render.renderFleetPlanJson(fp) : format === 'markdown' ? render.renderFleetPlanMarkdown(fp) : render.renderFleetPlanText(fp, styleFor(process.stdout, !!values['no-color']), { verbose: values.verbose });
  if (!values.quiet || format !== 'text') process.stdout.write(text);
  if (fp.errors.length || (values.strict && fp.missing.length)) {
    if (values.strict && fp.missing.length) process.stderr.write(`reconcile plan --fleet: --strict: no facts snapshot for ${fp.missing.map((m) => m.host).join(', ')}\n`);
    return 1;
  }
  return fp.hosts.some((h) => h.plan.changes.length) ? 2 : 0;
}
