import type { FileDiff, OwnLines } from '../plan/filediff.js';
import { RISKS, maxRisk, type Action, type Plan } from '../plan/types.js';

/**
 * What text and Markdown share: where a shared file's one diff is shown, how a change names its
 * own lines, and the footer. A file one change edits is shown under that change; a file several
 * changes edit is shown once, after the changes, and each change names its lines in it.
 */
export function filesOf(plan: Plan, address: string): { file: FileDiff; own: OwnLines; alone: boolean }[] {
  return (plan.files ?? []).filter((f) => f.lines[address]).map((file) => ({ file, own: file.lines[address]!, alone: Object.keys(file.lines).length === 1 }));
}

export function sharedFiles(plan: Plan): FileDiff[] {
  return (plan.files ?? []).filter((f) => Object.keys(f.lines).length > 1);
}

/** "removes line 3, adds lines 3-4": line numbers of the file as it is and as it will be. */
export function ownLinesText(own: OwnLines): string {
  const part = (verb: string, ns: number[]) => (ns.length ? `${verb} line${ns.length > 1 ? 's' : ''} ${ranges(ns)}` : '');
  return [part('removes', own.removed), part('adds', own.added)].filter(Boolean).join(', ');
}

function ranges(ns: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ns.length; ) {
    let j = i;
    while (j + 1 < ns.length && ns[j + 1] === ns[j]! + 1) j++;
    out.push(i === j ? `${ns[i]}` : `${ns[i]}-${ns[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}

/** Terraform's footer: "3 to create, 2 to update, 0 to delete, 1 to run; worst risk: restart". */
export function planFooter(plan: Plan): string {
  const n = (a: Action) => plan.changes.filter((c) => c.action === a).length;
  const replace = n('replace');
  const counts = [`${n('create')} to create`, `${n('update')} to update`, ...(replace ? [`${replace} to replace`] : []), `${n('delete')} to delete`, `${n('run')} to run`];
  return `${counts.join(', ')}; worst risk: ${worstRisk(plan)}`;
}

export function worstRisk(plan: Plan): (typeof RISKS)[number] {
  return maxRisk(plan.changes.map((c) => c.risk));
}
