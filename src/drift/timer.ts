import { parseDuration } from '../duration.js';
import type { UnitSpec } from '../spec/types.js';

export const DRIFT_SERVICE = 'reconcile-drift.service';
export const DRIFT_TIMER = 'reconcile-drift.timer';

export interface TimerOptions {
  /** Absolute path of the spec the timer checks. */
  spec: string;
  /** systemd time span, e.g. 15m. */
  every: string;
  /** The reconcile launcher the service runs. */
  bin: string;
  format?: 'text' | 'json' | 'prom';
  report?: string;
}

/**
 * One ExecStart= word: `%` is a systemd specifier and `$` an environment expansion even inside
 * quotes, so both are doubled; a word with anything else unusual is double-quoted with escapes.
 */
export function quote(word: string): string {
  const literal = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@%$+=:,./-]+$/.test(literal)) return literal;
  // Inside quotes systemd reads C escapes: a line break stays in the word instead of ending the line.
  const escaped = literal.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `"${escaped}"`;
}

/** Free text in a unit file (Description=): one line, `%` not a specifier. */
function unitText(text: string): string {
  return text.replace(/%/g, '%%').replace(/[\x00-\x1f\x7f]/g, '?');
}

/** A tenth of the interval, at most a minute: jitter that never outgrows a short interval. */
function jitter(every: string): string {
  const ms = parseDuration(every);
  return ms === undefined ? '1m' : `${Math.max(1, Math.min(60, Math.round(ms / 10_000)))}s`;
}

/**
 * The units of a scheduled drift check, as a spec fragment for the units kind: a oneshot service
 * (exit 2, drift, is a result, not a failure) and a timer that starts it every interval with a
 * randomized delay, persistent across downtime.
 */
export function driftTimerUnits(o: TimerOptions): UnitSpec[] {
  const argv = [o.bin, 'drift', o.spec, ...(o.format ? ['--format', o.format] : []), ...(o.report ? ['--report', o.report] : [])];
  const service = `[Unit]
Description=reconcile drift check of ${unitText(o.spec)}
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=${argv.map(quote).join(' ')}
SuccessExitStatus=2
Nice=10
IOSchedulingClass=idle
`;
  const timer = `[Unit]
Description=reconcile drift check every ${unitText(o.every)}

[Timer]
OnBootSec=${o.every}
OnUnitActiveSec=${o.every}
RandomizedDelaySec=${jitter(o.every)}
Persistent=true

[Install]
WantedBy=timers.target
`;
  return [
    { name: DRIFT_SERVICE, content: service },
    { name: DRIFT_TIMER, content: timer, enabled: true, state: 'running' },
  ];
}

/**
 * The spec text with the timer units in its `units:` list (added, or replaced when they differ),
 * comments kept. The units belong in the spec: reconcile owns what it applied, and a later apply
 * of a spec without them would remove them again.
 */
export async function withTimerUnits(specText: string, units: UnitSpec[]): Promise<{ text: string; changed: boolean }> {
  const { parseDocument, isSeq, isMap } = await import('yaml');
  const doc = parseDocument(specText);
  let seq = doc.get('units');
  if (seq === undefined || seq === null) {
    doc.set('units', doc.createNode([]));
    seq = doc.get('units');
  }
  if (!isSeq(seq)) throw new Error('units: is not a list');
  let changed = false;
  for (const unit of units) {
    const at = seq.items.findIndex((item) => isMap(item) && item.get('name') === unit.name);
    const current = at < 0 ? undefined : JSON.stringify((seq.items[at] as { toJSON(): unknown }).toJSON());
    if (current === JSON.stringify(unit)) continue;
    changed = true;
    if (at < 0) seq.add(doc.createNode(unit));
    else seq.items[at] = doc.createNode(unit);
  }
  // No folding: a unit file reads best as a literal block, line for line.
  return { text: changed ? doc.toString({ lineWidth: 0 }) : specText, changed };
}
