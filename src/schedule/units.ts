import { parseDuration } from '../duration.js';
import type { UnitSpec } from '../spec/types.js';

/**
 * The one place that writes reconcile's own scheduled units (the drift check's, the host's pull):
 * a oneshot service running one reconcile command and a timer starting it. Both callers hand the
 * result to the units kind as a spec fragment; nothing here touches a file.
 */
export interface ScheduledUnits {
  /** Unit name without suffix: `reconcile-drift` gives reconcile-drift.service and .timer. */
  name: string;
  description: string;
  /** The command, argv[0] included; each word is quoted for ExecStart= here. */
  argv: string[];
  schedule: Schedule;
  /** RandomizedDelaySec=, in ms (the callers' rule: a third of the interval for pull). */
  randomizedDelayMs: number;
  /** TimeoutStartSec=, in ms; a oneshot's default (infinity) when not given. */
  timeoutStartMs?: number;
  /** Exit codes that are results, not failures (2: drift found, or an apply deferred). */
  successExitStatus?: number[];
  /** EnvironmentFile= (absolute): secrets by name, never their values in the unit. */
  environmentFile?: string;
  /** LoadCredential=ID:PATH: the secret reaches the service as $CREDENTIALS_DIRECTORY/ID. */
  credentials?: { id: string; path: string }[];
  /** More [Service] lines (Nice=…), already valid unit syntax. */
  serviceExtra?: string[];
}

/** How often: a monotonic interval (OnBootSec + OnUnitActiveSec) or a calendar period (OnCalendar, persistent). */
export type Schedule = { kind: 'interval'; ms: number; text: string } | { kind: 'calendar'; calendar: string; ms: number };

/** Calendar shorthands systemd knows, with their period (for the randomized delay). */
const CALENDAR: Record<string, number> = { hourly: 3_600_000, daily: 86_400_000, weekly: 7 * 86_400_000 };

/**
 * `--every` as a schedule, or why it is not one: a duration (30s, 15m, 1h30m) runs that long after
 * the last run started; `hourly`, `daily`, `weekly` are wall-clock periods, caught up after downtime
 * (Persistent= only means something with OnCalendar=, so only they set it).
 */
export function parseSchedule(every: string): Schedule | string {
  if (Object.hasOwn(CALENDAR, every)) return { kind: 'calendar', calendar: every, ms: CALENDAR[every]! };
  const ms = parseDuration(every);
  // Well-formed but longer than a week: fleet status calls a host stale only after two intervals,
  // so a timer that rarely runs leaves the host unwatched for weeks (weekly is the longest period).
  if (/^(\d+(ms|s|m|h))+$/.test(every) && (ms === undefined || ms > MAX_EVERY_MS)) return `--every ${every} is longer than a week (168h); a host that reports so rarely is not watched: use at most 168h, or weekly`;
  if (ms === undefined || ms < 1000) return `--every must be a duration of at least 1s such as 15m or 1h, or hourly, daily or weekly, not ${JSON.stringify(every)}`;
  return { kind: 'interval', ms, text: every };
}

/** The longest --every a timer takes: a week, as `weekly`. */
export const MAX_EVERY_MS = 7 * 86_400_000;

/** `--every` as the argument that gives the same schedule again (the pull unit passes it on to the run). */
export function scheduleText(s: Schedule): string {
  return s.kind === 'interval' ? s.text : s.calendar;
}

/** A systemd time span in whole seconds (at least 1): systemd reads `90s` however it was given. */
export function seconds(ms: number): string {
  return `${Math.max(1, Math.round(ms / 1000))}s`;
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
export function unitText(text: string): string {
  return text.replace(/%/g, '%%').replace(/[\x00-\x1f\x7f]/g, '?');
}

/** A path in a setting that takes one path (EnvironmentFile=, LoadCredential=): specifiers doubled, no blanks or controls. */
function unitPathValue(p: string, what: string): string {
  if (!p.startsWith('/') || /[\s\x00-\x1f\x7f]/.test(p)) throw new Error(`${what}: ${JSON.stringify(p)} must be an absolute path without blanks`);
  return p.replace(/%/g, '%%');
}

/** The service and its timer, enabled and running, as `units:` entries. */
export function scheduledUnits(o: ScheduledUnits): UnitSpec[] {
  const service = [
    '[Unit]',
    `Description=${unitText(o.description)}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${o.argv.map(quote).join(' ')}`,
    ...(o.successExitStatus?.length ? [`SuccessExitStatus=${o.successExitStatus.join(' ')}`] : []),
    ...(o.timeoutStartMs !== undefined ? [`TimeoutStartSec=${seconds(o.timeoutStartMs)}`] : []),
    ...(o.environmentFile ? [`EnvironmentFile=${unitPathValue(o.environmentFile, 'EnvironmentFile')}`] : []),
    ...(o.credentials ?? []).map((c) => `LoadCredential=${c.id}:${unitPathValue(c.path, `LoadCredential ${c.id}`)}`),
    ...(o.serviceExtra ?? []),
    '',
  ].join('\n');
  const when =
    o.schedule.kind === 'calendar'
      ? [`OnCalendar=${o.schedule.calendar}`, 'Persistent=true']
      : [`OnBootSec=${seconds(o.schedule.ms)}`, `OnUnitActiveSec=${seconds(o.schedule.ms)}`];
  const every = o.schedule.kind === 'calendar' ? o.schedule.calendar : o.schedule.text;
  const timer = ['[Unit]', `Description=${unitText(o.description)}, ${unitText(every)}`, '', '[Timer]', ...when, `RandomizedDelaySec=${seconds(o.randomizedDelayMs)}`, '', '[Install]', 'WantedBy=timers.target', ''].join('\n');
  return [
    { name: `${o.name}.service`, content: service },
    { name: `${o.name}.timer`, content: timer, enabled: true, state: 'running' },
  ];
}

/** A units fragment as YAML, unit files as literal blocks, line for line: what a user includes or reads. */
export async function unitsFragmentYaml(units: UnitSpec[], header: string): Promise<string> {
  const { stringify } = await import('yaml');
  const comment = header
    .split('\n')
    .map((l) => `# ${l}`.trimEnd())
    .join('\n');
  return `${comment}\n${stringify({ units }, { lineWidth: 0, blockQuote: 'literal' })}`;
}
