import type { Diagnostic } from '../../errors.js';
import { finding, findServer, nearestHost, where, type FleetView } from './view.js';

/**
 * DESIGN §8.3, migrations: an entry names its target without secrets (`server: HOST`, `dbname:`);
 * HOST is a fleet host whose PostgreSQL is a primary (a standby is read-only, and a database
 * migrated through two hosts' entries would race), and each (server, dbname) is migrated by
 * exactly one entry of the fleet. Entries that name no server are not checked: their target is
 * only in the secret URL.
 */
export function migrationsChecks(view: FleetView): Diagnostic[] {
  const out: Diagnostic[] = [];
  const owner = new Map<string, { host: string; index: number }>();
  for (const [name, m] of view.merged) {
    (m.value.migrations ?? []).forEach((entry, i) => {
      const label = `migrations[${entry.name}]`;
      if (entry.server === undefined && entry.dbname === undefined) return;
      if (entry.server === undefined || entry.dbname === undefined) {
        const said = entry.server === undefined ? 'dbname' : 'server';
        out.push(finding(m, ['migrations', i, said], `${label}: ${said} without ${said === 'server' ? 'dbname' : 'server'}: the target is the pair (server, dbname)`, 'error'));
        return;
      }
      const at = ['migrations', i, 'server'];
      const found = findServer(view, entry.server);
      if (found.kind === 'external') return;
      if (found.kind === 'none') {
        out.push(finding(m, at, `${label}: server ${entry.server} is neither a fleet host nor external in ${view.fleet.file.display}; not checked${nearestHost(view, entry.server)}`, 'warning'));
        return;
      }
      const server = found.host.name;
      const sm = view.merged.get(server);
      if (sm) {
        const pg = sm.value.postgres;
        if (!pg) out.push(finding(m, at, `${label}: server ${server} runs no PostgreSQL in its spec (${sm.hostFile.file.display})`, 'error'));
        else if (pg.role !== 'primary') {
          const up = pg.primary ? findServer(view, pg.primary.host) : undefined;
          const upName = up?.kind === 'host' ? up.host.name : pg.primary?.host;
          out.push(finding(m, at, `${label}: server ${server} is a ${pg.role} (${where(sm, ['postgres', 'role'])}); migrations run on the primary${upName ? `, ${upName}` : ''}`, 'error'));
        }
      }
      // Keyed by the fleet's name of the server, so an address and a name of one host collide.
      const key = `${server}\u0000${entry.dbname}`;
      const first = owner.get(key);
      if (!first) {
        owner.set(key, { host: name, index: i });
        return;
      }
      const fm = view.merged.get(first.host)!;
      const other = first.host === name ? 'this host' : first.host;
      out.push(
        finding(m, at, `${label}: database ${entry.dbname} on ${server} is migrated by ${other}'s migrations[${fm.value.migrations![first.index]!.name}] too (${where(fm, ['migrations', first.index, 'server'])}); one host migrates each database`, 'error'),
      );
    });
  }
  return out;
}
