import type { Diagnostic } from '../../errors.js';
import { migrationsChecks } from './migrations.js';
import { nfsChecks } from './nfs.js';
import { postgresChecks } from './postgres.js';
import type { FleetView } from './view.js';

export type { FleetView, Use } from './view.js';

/**
 * The checks between hosts (DESIGN §8.3) on every host's merged spec. Unknown verdicts are
 * warnings, errors under --strict; nothing here resolves DNS.
 */
export function crossHostChecks(view: FleetView, options: { strict?: boolean } = {}): Diagnostic[] {
  const found = [...nfsChecks(view), ...postgresChecks(view), ...migrationsChecks(view)];
  return options.strict ? found.map((d) => ({ ...d, severity: 'error' as const })) : found;
}
