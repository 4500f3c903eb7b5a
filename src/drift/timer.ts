import * as path from 'node:path';
import { scheduledUnits, type Schedule } from '../schedule/units.js';
import type { UnitSpec } from '../spec/types.js';

export const DRIFT_UNIT = 'reconcile-drift';

export interface TimerOptions {
  /** The spec's path on the hosts that run the timer. */
  spec: string;
  schedule: Schedule;
  /** The reconcile the service runs: `reconcile`, found by systemd on the host (see driftCommand). */
  bin: string;
  format?: 'text' | 'json' | 'prom';
  report?: string;
}

/** A tenth of the interval, at most a minute: a local check needs no more spread than that. */
function jitterMs(schedule: Schedule): number {
  return Math.min(60_000, schedule.ms / 10);
}

/**
 * The units of a scheduled drift check: a oneshot service (exit 2, drift, is a result, not a
 * failure), at low priority, and its timer.
 */
export function driftTimerUnits(o: TimerOptions): UnitSpec[] {
  return scheduledUnits({
    name: DRIFT_UNIT,
    description: `reconcile drift check of ${o.spec}`,
    argv: [o.bin, 'drift', o.spec, ...(o.format ? ['--format', o.format] : []), ...(o.report ? ['--report', o.report] : [])],
    schedule: o.schedule,
    randomizedDelayMs: jitterMs(o.schedule),
    successExitStatus: [2],
    serviceExtra: ['Nice=10', 'IOSchedulingClass=idle'],
  });
}

/** Where --install-timer writes the fragment: beside the spec, named after it (one per host spec). */
export function driftFragmentPath(spec: string): string {
  const base = path.basename(spec).replace(/\.ya?ml$/, '');
  return path.join(path.dirname(spec), `${base}.drift-timer.yaml`);
}
