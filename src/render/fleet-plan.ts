/** `plan --fleet` for humans (one section per host, then a summary), for pull requests, and as JSON. */
import { publicPlan } from '../plan/public.js';
import { FLEET_PLAN_FORMAT_VERSION, type FleetPlan } from '../plan/fleet.js';
import { redact } from '../spec/secrets.js';
import { renderPlanMarkdown } from './markdown.js';
import { renderPlanText } from './text.js';
import type { Style } from './style.js';

/** 42s, 5m, 3h 12m, 2d 4h: how old a snapshot is, to the unit that matters. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

function summary(fp: FleetPlan): string[] {
  const changed = fp.hosts.filter((h) => h.plan.changes.length);
  const lines = [
    `${fp.hosts.length} host${fp.hosts.length === 1 ? '' : 's'} planned from facts: ${changed.length} with changes${changed.length ? ` (${changed.map((h) => `${h.host}: ${h.plan.changes.length}`).join(', ')})` : ''}, ${fp.hosts.length - changed.length} in sync`,
  ];
  if (fp.missing.length) lines.push(`no snapshot for ${fp.missing.length} host${fp.missing.length === 1 ? '' : 's'}: ${fp.missing.map((m) => `${m.host} (${m.file})`).join(', ')}`);
  if (fp.errors.length) lines.push(`failed for ${fp.errors.length} host${fp.errors.length === 1 ? '' : 's'}: ${fp.errors.map((e) => e.host).join(', ')}`);
  return lines;
}

export function renderFleetPlanText(fp: FleetPlan, style: Style, options: { verbose?: boolean } = {}): string {
  const out: string[] = [];
  for (const h of fp.hosts) {
    out.push(style.bold(`== ${h.host} (facts recorded ${formatAge(h.snapshot.ageSeconds)} ago, ${h.snapshot.recordedAt})`));
    out.push(renderPlanText(h.plan, style, options).trimEnd(), '');
  }
  for (const e of fp.errors) out.push(style.bold(`== ${e.host}`), style.red(`error: ${e.error}`), '');
  for (const m of fp.missing) out.push(style.yellow(`warning: ${m.host}: no facts snapshot ${m.file} (record one on the host: reconcile facts SPEC > ${m.host}.json)`));
  out.push(...summary(fp));
  return redact(`${out.join('\n')}\n`);
}

export function renderFleetPlanMarkdown(fp: FleetPlan): string {
  const out: string[] = ['## reconcile plan --fleet', '', ...summary(fp).map((l) => `- ${l}`), ''];
  for (const h of fp.hosts) out.push(renderPlanMarkdown(h.plan).trimEnd(), '', `_Facts recorded ${formatAge(h.snapshot.ageSeconds)} ago (${h.snapshot.recordedAt})._`, '');
  for (const e of fp.errors) out.push(`### \`${e.host}\``, '', `**Error**: ${e.error}`, '');
  return redact(`${out.join('\n')}\n`);
}

/** `{formatVersion, hosts: {name: plan}, missing, errors, snapshots}`: each plan in its own versioned public form. */
export function renderFleetPlanJson(fp: FleetPlan): string {
  return (
    redact(
      JSON.stringify(
        {
          formatVersion: FLEET_PLAN_FORMAT_VERSION,
          at: fp.at,
          hosts: Object.fromEntries(fp.hosts.map((h) => [h.host, publicPlan(h.plan)])),
          snapshots: Object.fromEntries(fp.hosts.map((h) => [h.host, h.snapshot])),
          missing: fp.missing,
          errors: fp.errors,
        },
        null,
        2,
      ),
    ) + '\n'
  );
}
