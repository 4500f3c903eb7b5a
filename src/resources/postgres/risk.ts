import { isDeepStrictEqual } from 'node:util';
import { at, worst, type Assessed, type KindRisk } from '../types.js';
import type { PostgresSpec } from '../../spec/types.js';
import { PG_SETTING_CONTEXTS } from './setting-contexts.js';

export const entries: KindRisk<PostgresSpec>['entries'] = (spec) => (spec.postgres !== undefined ? [['postgres', spec.postgres]] : []);

/**
 * Whether a setting needs a server restart (context `postmaster`), from PostgreSQL's own table;
 * a setting it does not know is judged the worse way (a restart), since review has no server.
 */
export function needsRestartSetting(name: string): boolean {
  const context = PG_SETTING_CONTEXTS[name];
  return context === undefined || context === 'postmaster' || context === 'internal';
}

export function risk(b: PostgresSpec | undefined, a: PostgresSpec | undefined): Assessed {
  if (b && !a) return at('none', 'postgres leaves the spec: nothing is removed (roles and data are never removed implicitly)');
  const before: Partial<PostgresSpec> = b ?? {};
  if (!a) return at('none');
  const found: Assessed[] = [];
  if (b && !isDeepStrictEqual(b.instance, a.instance)) found.push(at('disruptive', 'instance changed: another cluster is managed'));
  if (b && b.role === 'primary' && a.role === 'standby') found.push(at('destructive', 'primary -> standby: the data directory is rebuilt from the primary'));
  if (b && b.role === 'standby' && a.role === 'primary') found.push(at('disruptive', 'standby -> primary: promoted'));
  if (!b && a.role === 'standby') found.push(at('destructive', 'standby: rebuilt from the primary unless it already follows it'));
  if (b?.role === 'standby' && a.role === 'standby' && b.primary?.host !== a.primary?.host) found.push(at('destructive', `primary host ${b.primary?.host} -> ${a.primary?.host}: standby rebuilt`));
  else if (b?.role === 'standby' && a.role === 'standby' && !isDeepStrictEqual(b.primary, a.primary)) found.push(at('reload', 'primary connection changed: reloaded'));
  const keys = new Set([...Object.keys(before.settings ?? {}), ...Object.keys(a.settings ?? {})]);
  const changed = [...keys].filter((k) => !isDeepStrictEqual(before.settings?.[k], a.settings?.[k])).sort();
  const restart = changed.filter(needsRestartSetting);
  if (restart.length) found.push(at('restart', `settings needing a restart: ${restart.join(', ')}`));
  if (changed.length > restart.length) found.push(at('reload', `settings reloaded: ${changed.filter((k) => !needsRestartSetting(k)).join(', ')}`));
  if (!isDeepStrictEqual(before.hba, a.hba)) found.push(at('reload', 'pg_hba.conf changed: reloaded'));
  if (!isDeepStrictEqual(before.users, a.users)) found.push(at('none', 'roles changed'));
  const goneSlots = (before.slots ?? []).filter((s) => !(a.slots ?? []).includes(s));
  if (goneSlots.length) found.push(at('disruptive', `replication slots dropped: ${goneSlots.join(', ')} (a standby using one breaks)`));
  if (before.restoreCommand !== a.restoreCommand) found.push(at('reload', 'restore_command changed'));
  return found.length ? worst(found) : at('none', b ? 'changed' : 'postgres managed');
}
