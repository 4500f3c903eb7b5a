import { isDeepStrictEqual } from 'node:util';
import { at, worst, type Assessed, type KindRisk } from '../types.js';
import type { MigrationsObserved } from './types.js';
import type { MigrationsSpec } from '../../spec/types.js';

export const entries: KindRisk<MigrationsSpec>['entries'] = (spec) => (spec.migrations ?? []).map((m) => [`migrations[${m.name}]`, m]);

/**
 * A migration the plan runs (address `migrations[NAME]/VERSION_slug`) as a change of its entry's
 * target: before, the database stands at that version when it is applied (going below it is a
 * downgrade), else at the newest applied one below it (running it is an upgrade).
 */
export function observedEntry(observed: MigrationsObserved, address: string, desired: MigrationsSpec | undefined): { entry: MigrationsSpec | undefined } {
  const m = /^migrations\[(.*?)\](?:\/(\d+)_.*)?$/.exec(address);
  const o = m ? observed.entries[m[1]!] : undefined;
  if (!m || !o?.db || !desired) return { entry: undefined };
  const applied = o.db.applied.map((r) => r.version).sort(compareIds);
  const version = m[2];
  const below = version === undefined ? applied : applied.filter((v) => compareIds(v, version) < 0);
  const at = version !== undefined && applied.some((v) => compareIds(v, version) === 0) ? version : (below.at(-1) ?? '0');
  return { entry: { ...desired, target: at } };
}

/** Natural order of migration ids: 0002 < 0010, 20240101_x < 20240202_y. */
function compareIds(x: string, y: string): number {
  return x.localeCompare(y, 'en', { numeric: true });
}

export function risk(b: MigrationsSpec | undefined, a: MigrationsSpec | undefined): Assessed {
  if (!b && a) return at('none', `migrations run up to ${a.target ?? 'head'}`);
  if (b && !a) return at('none', 'migrations leave the spec: applied migrations are never reverted implicitly');
  if (!b || !a) return at('none');
  const found: Assessed[] = [];
  const [from, to] = [b.target ?? 'head', a.target ?? 'head'];
  if (from !== to) {
    if (to !== 'head' && (from === 'head' || compareIds(to, from) < 0)) found.push(at('destructive', `target ${from} -> ${to}: a downgrade`));
    else found.push(at('none', `target ${from} -> ${to}: upgrade`));
  }
  if (!isDeepStrictEqual(b.database, a.database)) found.push(at('none', 'database changed'));
  if (b.dir !== a.dir) found.push(at('none', 'migrations directory changed'));
  return found.length ? worst(found) : at('none', 'changed');
}
