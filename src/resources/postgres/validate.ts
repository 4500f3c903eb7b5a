import type { Diagnostic } from '../../errors.js';
import { diagnosticAt, type LoadedSpec } from '../../spec/load.js';
import { shadows } from './hba.js';

/** `postgres:` from the spec alone: each hba rule once per (type, database, user, address). */
export function validate(spec: LoadedSpec): Diagnostic[] {
  const out: Diagnostic[] = [];
  // Two hba entries for one (type, database, user, address) would rewrite each other's line forever.
  const seen = new Map<string, number>();
  const keyOf = (h: { type: string; database: string; user: string; address?: string }) => JSON.stringify([h.type, h.database, h.user, h.type === 'local' ? '' : (h.address ?? 'all')]);
  (spec.value.postgres?.hba ?? []).forEach((h, i) => {
    const key = keyOf(h);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else {
      const line = diagnosticAt(spec, ['postgres', 'hba', first], '').line;
      out.push(diagnosticAt(spec, ['postgres', 'hba', i], `postgres.hba: ${h.type} ${h.database} ${h.user}${h.address ? ` ${h.address}` : ''} is declared twice (here and at line ${line})`));
    }
  });
  // First match wins: a rule an earlier one of the spec always matches first never applies.
  const rules = spec.value.postgres?.hba ?? [];
  rules.forEach((h, i) => {
    // The same key twice is reported above as declared twice.
    const j = rules.findIndex((e, k) => k < i && keyOf(e) !== keyOf(h) && shadows(e, h));
    if (j === -1) return;
    const e = rules[j]!;
    const line = diagnosticAt(spec, ['postgres', 'hba', j], '').line;
    out.push({ ...diagnosticAt(spec, ['postgres', 'hba', i], `postgres.hba: ${h.type} ${h.database} ${h.user}${h.address ? ` ${h.address}` : ''} never applies: the earlier rule ${e.type} ${e.database} ${e.user}${e.address ? ` ${e.address}` : ''} (line ${line}) matches every connection it does first (pg_hba.conf: first match wins; order: N sets the order)`), severity: 'warning' });
  });
  return out;
}
