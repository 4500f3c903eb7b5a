/** `fleet status` forms: text for humans, JSON (versioned), Prometheus for the textfile collector. Read only the FleetView. */
import type { FleetView } from './assess.js';

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
/** Text from Redis (an error, a forged record) may hold newlines or terminal escapes: shown escaped. */
const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => JSON.stringify(c).slice(1, -1));
/** A name from Redis may be anything: shown as JSON when it is not plain. */
const shown = (s: string) => (/^[\w.@:-]+$/.test(s) ? s : JSON.stringify(s));

export function renderStatusText(v: FleetView): string {
  const lines: string[] = [];
  const c = v.counts;
  const order = ['hosts', 'reported', 'converged', 'pending', 'failed', 'blocked', 'deferred', 'disabled', 'stale', 'never reported', 'behind', 'drift', 'duplicate identity', 'below minVersion', 'not in fleet', 'unreadable'];
  lines.push(`fleet ${shown(v.fleet)}: ${order.filter((k) => c[k]).map((k) => `${c[k]} ${k}`).join(', ') || 'no hosts'}`);
  if (v.incompleteSince !== null) lines.push(`incomplete since ${iso(v.incompleteSince)}: Redis holds status only from then on (restarted or new); hosts that have not reported since are not flagged yet`);
  const need = v.hosts.filter((h) => h.attention.length);
  if (!need.length) lines.push('nothing needs attention');
  else {
    lines.push(`${need.length} host(s) need attention:`);
    for (const h of need) for (const why of h.why) lines.push(`  ${shown(h.host)}: ${oneLine(why)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function renderStatusJson(v: FleetView & { rollouts?: unknown[] }): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

/** A label value in the exposition format: backslash, quote and newline escaped. */
export const promLabel = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/**
 * Rollout metrics (`reconcile_rollout_slots{group,phase}`, `_queue{group}`, `_halted{group}`) come
 * from the rollout's own data: passed in as already-computed samples when it exists.
 */
export interface RolloutSamples {
  slots: { group: string; phase: string; value: number }[];
  queue: { group: string; value: number }[];
  halted: { group: string; value: number }[];
}

export function renderStatusProm(v: FleetView, rollout?: RolloutSamples): string {
  const out: string[] = [];
  const family = (name: string, help: string, samples: string[]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...samples);
  };
  const hosts = v.hosts;
  const h = (x: { host: string }) => `host="${promLabel(x.host)}"`;
  family('reconcile_host_last_report_timestamp_seconds', 'Redis time of the host\'s last status report.', hosts.filter((x) => x.at !== null).map((x) => `reconcile_host_last_report_timestamp_seconds{${h(x)}} ${Math.floor(x.at! / 1000)}`));
  family('reconcile_host_failed', '1 when the host\'s last run failed.', hosts.filter((x) => x.record).map((x) => `reconcile_host_failed{${h(x)}} ${x.record!.result === 'failed' ? 1 : 0}`));
  family('reconcile_host_drift', 'Unacknowledged drift the host last reported.', hosts.filter((x) => x.record).map((x) => `reconcile_host_drift{${h(x)}} ${x.record!.drift}`));
  family('reconcile_host_behind', '1 when the host\'s spec at HEAD differs from the one it last converged on.', hosts.filter((x) => x.inFleet && x.record).map((x) => `reconcile_host_behind{${h(x)}} ${x.behind ? 1 : 0}`));
  family(
    'reconcile_host_info',
    'The commit and reconcile version of the host\'s last report.',
    hosts.filter((x) => x.record).map((x) => `reconcile_host_info{${h(x)},commit="${promLabel(x.record!.commit ?? '')}",version="${promLabel(x.record!.version)}"} 1`),
  );
  if (rollout) {
    family('reconcile_rollout_slots', 'Slots of a rollout group by phase.', rollout.slots.map((s) => `reconcile_rollout_slots{group="${promLabel(s.group)}",phase="${promLabel(s.phase)}"} ${s.value}`));
    family('reconcile_rollout_queue', 'Hosts queued for a slot of the group.', rollout.queue.map((s) => `reconcile_rollout_queue{group="${promLabel(s.group)}"} ${s.value}`));
    family('reconcile_rollout_halted', '1 when the group is halted until fleet resume.', rollout.halted.map((s) => `reconcile_rollout_halted{group="${promLabel(s.group)}"} ${s.value}`));
  }
  return `${out.join('\n')}\n`;
}
