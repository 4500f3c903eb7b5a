import type { Change } from './types.js';

export interface IgnoreDriftEntry {
  address: string;
  until: string;
  reason: string;
}

/** The last instant an `until: YYYY-MM-DD` covers (end of that day, UTC); null for a date that does not exist. */
export function endOfDayUtc(until: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(until);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const start = Date.UTC(y, mo - 1, d);
  // Date.UTC rolls 2026-02-30 over into March: such a date is refused, not silently moved.
  const check = new Date(start);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null;
  return start + 86_400_000 - 1;
}

/** `exports[/data/share]` exactly, or a pattern with `*` (any characters), e.g. `mounts[/mnt/*]`. */
export function addressMatches(pattern: string, address: string): boolean {
  if (!pattern.includes('*')) return pattern === address;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(address);
}

/**
 * Marks the changes that an unexpired ignoreDrift entry covers (in place, `change.acknowledged`)
 * and returns warnings for entries that no longer hold: expired ones that match a change (the
 * drift is back) and dates that do not exist. The plan keeps every change: acknowledging is about
 * what a drift check reports, not about what apply does.
 */
export function acknowledgeDrift(changes: Change[], entries: readonly IgnoreDriftEntry[] | undefined, now: Date): string[] {
  const warnings: string[] = [];
  for (const e of entries ?? []) {
    const end = endOfDayUtc(e.until);
    const matching = changes.filter((c) => addressMatches(e.address, c.address));
    if (end === null) {
      warnings.push(`ignoreDrift[${e.address}]: until "${e.until}" is not a date (YYYY-MM-DD); not acknowledged`);
      continue;
    }
    if (now.getTime() > end) {
      if (matching.length) warnings.push(`ignoreDrift[${e.address}]: acknowledged until ${e.until}, expired: reported as drift again`);
      continue;
    }
    for (const c of matching) c.acknowledged ??= { until: e.until, reason: e.reason };
  }
  return warnings;
}
