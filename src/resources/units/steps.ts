import { describeFailure } from '../../diagnostics/hang.js';
import type { Host } from '../../host/host.js';
import { StepError, type StepRunner } from '../types.js';
import type { SystemctlVerb } from './diff.js';
import { updateOwed, type OwedVerb } from '../../host/owed.js';
import { readRecordFile, updateRecord, updateRecords } from './record.js';
import { isEnabled, isEnabledOrIndirect, isMasked, isRunning, parseSystemctlShow, showArgv, type ManagerState } from './show.js';

/** How long a started unit must stay up before the step believes it (Type=simple returns at fork). */
const SETTLE_MS = 500;
const JOURNAL_LINES = 20;

async function show(host: Host, name: string): Promise<ManagerState> {
  const r = await host.exec(showArgv([name]), { timeoutMs: 20_000 });
  if (!r.ok) throw new StepError(describeFailure(r), r.stderr);
  return parseSystemctlShow(r.stdout, [name])[name]!;
}

/** The last lines of the unit's journal, to explain a failed start. */
async function journalTail(host: Host, name: string): Promise<string> {
  const r = await host.exec(['journalctl', `--unit=${name}`, '-n', String(JOURNAL_LINES), '--no-pager'], { timeoutMs: 15_000 });
  const text = (r.stdout || r.stderr).trim();
  return text ? `last ${JOURNAL_LINES} journal lines (journalctl -u ${name} -n ${JOURNAL_LINES} --no-pager):\n${text}` : `journalctl -u ${name} shows nothing`;
}

/** Whether the host already is what the verb would make it (checked right before acting). */
function already(verb: SystemctlVerb, m: ManagerState): boolean {
  switch (verb) {
    case 'enable':
      return isEnabledOrIndirect(m);
    case 'disable':
      return !isEnabled(m);
    case 'mask':
      return isMasked(m);
    case 'unmask':
      return !isMasked(m);
    case 'start':
      return isRunning(m);
    case 'stop':
      return !isRunning(m);
    default:
      return false; // restart, reload, reenable: asked for because something changed
  }
}

const STARTS = new Set<SystemctlVerb>(['start', 'restart', 'reload', 'try-restart', 'try-reload-or-restart']);

const systemctl: StepRunner = async (step, { host, timeoutMs }) => {
  const name = step.args.name as string;
  const verb = step.args.verb as SystemctlVerb;
  const before = await show(host, name);
  let outcome: 'done' | 'already' = 'already';
  if (!already(verb, before)) {
    const r = await host.exec(['systemctl', verb, '--', name], { timeoutMs, describe: `systemctl ${verb} ${name}` });
    if (!r.ok) {
      const why = describeFailure(r);
      throw new StepError(STARTS.has(verb) ? `${why}\n${await journalTail(host, name)}` : why, r.stderr);
    }
    outcome = 'done';
    // A try-* verb does nothing to a unit that is not running: nothing to check after it then.
    if (STARTS.has(verb) && (!verb.startsWith('try-') || isRunning(before))) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const after = await show(host, name);
      if (!isRunning(after) && !(after.activeState === 'activating' && after.subState !== 'auto-restart')) {
        throw new StepError(`${name} is ${after.activeState} (${after.subState}) right after systemctl ${verb}\n${await journalTail(host, name)}`);
      }
    }
  }
  // A restart owed by an earlier apply is settled by any of these (src/host/owed.ts), and so is
  // the debt an earlier version left in units.json.
  if (STARTS.has(verb) || verb === 'stop') {
    await updateOwed(host, { [name]: null });
    const entry = (await readRecordFile(host)).units[name];
    if (entry?.owe) await updateRecord(host, name, { files: entry.files });
  }
  return { status: outcome };
};

/** Writes what reconcile keeps about a unit: before its files (with the restart they will owe), or after removing them. */
const record: StepRunner = async (step, { host }) => {
  const entries = step.args.entries as Record<string, { files: string[]; owe: OwedVerb | null }>;
  const files: Record<string, { files: string[] } | null> = {};
  const owed: Record<string, OwedVerb | null> = {};
  for (const [name, e] of Object.entries(entries)) {
    files[name] = e.files.length ? { files: e.files } : null;
    // Under --root nothing is restarted, so nothing is owed.
    owed[name] = host.offline ? null : e.owe;
  }
  // The debt first: it must be on disk before the files that owe it.
  const noted = await updateOwed(host, owed);
  return { status: (await updateRecords(host, files)) || noted ? 'done' : 'already' };
};

export const unitsOps: Record<string, StepRunner> = {
  'units.systemctl': systemctl,
  'units.record': record,
};
