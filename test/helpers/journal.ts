/**
 * Reading what applies recorded under a `--root`: their journal entries, and how many hosts held a
 * rollout group's slots at once, computed from the journals (the Redis time each slot was taken and
 * given back), never from the slots' own bookkeeping.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export type JournalEntry = Record<string, unknown> & { event: string; at: string };

/** Every journal entry under a root, oldest run first. */
export function journalAt(root: string): JournalEntry[] {
  const dir = path.join(root, 'var/lib/reconcile/journal');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((d) => readFileSync(path.join(dir, d, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as JournalEntry));
}

export interface SlotInterval {
  host: string;
  from: number;
  to: number;
  canary: boolean;
}

/** [taken, given back or failed] of one group per host, from the journals under `rootOf(host)`. */
export function slotIntervals(rootOf: (host: string) => string, hosts: string[], group: string): SlotInterval[] {
  return hosts.flatMap((h) => {
    const mine = journalAt(rootOf(h)).filter((e) => e.event === 'rollout' && e.group === group);
    const taken = mine.filter((e) => e.slot === 'taken');
    const back = mine.filter((e) => e.slot === 'given back' || e.slot === 'failed');
    return taken.map((t, i) => ({ host: h, from: Date.parse(t.at), to: Date.parse(back[i]?.at ?? '9999-01-01T00:00:00Z'), canary: t.canary === true }));
  });
}

/** The most intervals open at one instant. */
export function maxOverlap(iv: { from: number; to: number }[]): number {
  // A slot given back at t and another taken at t did not overlap: ends sort first.
  const points = iv.flatMap((i) => [[i.from, 1], [i.to, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of points) max = Math.max(max, (now += d));
  return max;
}
