import type { Diagnostic } from '../../errors.js';
import { diagnosticAt, type LoadedSpec } from '../../spec/load.js';

/** `postgres:` from the spec alone: each hba rule once per (type, database, user, address). */
export function validate(spec: LoadedSpec): Diagnostic[] {
  const out: Diagnostic[] = [];
  // Two hba entries for one (type, database, user, address) would rewrite each other's line forever.
  const seen = new Map<string, number>();
  (spec.value.postgres?.hba ?? []).forEach((h, i) => {
    const key = JSON.stringify([h.type, h.database, h.user, h.type === 'local' ? '' : (h.address ?? 'all')]);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else {
      const line = diagnosticAt(spec, ['postgres', 'hba', first], '').line;
      out.push(diagnosticAt(spec, ['postgres', 'hba', i], `postgres.hba: ${h.type} ${h.database} ${h.user}${h.address ? ` ${h.address}` : ''} is declared twice (here and at line ${line})`));
    }
  });
  return out;
}
