import type { Host } from '../../host/host.js';
import type { HostSpec } from '../../spec/types.js';
import { DEFAULT_BIN_ROOT, psqlLocal, resolveInstance } from './instance.js';
import { parsePortFromConf } from './observe.js';

export interface ReplicationSection {
  /** not configured (no postgres in the spec) · primary · standby · unreachable */
  status: 'not configured' | 'primary' | 'standby' | 'unreachable';
  /** The role the spec wants, when it says. */
  want?: 'primary' | 'standby';
  /** Standbys as the primary sees them, or this standby's receiver: state and lag. */
  lines: string[];
  /** True when a standby is not streaming or a primary's standby is not. */
  degraded: boolean;
}

// One row per line, fields separated by tabs: what `pg_stat_replication` / the WAL receiver say.
const SQL = `SELECT CASE WHEN pg_is_in_recovery() THEN 'standby' ELSE 'primary' END;
SELECT 'standby ' || coalesce(application_name, '?') || ' from ' || coalesce(client_addr::text, 'local') || E'\\t' || coalesce(state, '?') || E'\\t' ||
       coalesce(pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), '?') || ' behind, replay lag ' || coalesce(replay_lag::text, '0')
  FROM pg_stat_replication WHERE NOT pg_is_in_recovery();
SELECT 'receiver from ' || coalesce(sender_host, '?') || ':' || coalesce(sender_port::text, '?') || E'\\t' || status || E'\\t' ||
       'last replayed transaction ' || coalesce((now() - pg_last_xact_replay_timestamp())::text, 'never') || ' ago'
  FROM pg_stat_wal_receiver;
`;

/** Role, streaming state and lag of the spec's PostgreSQL instance, for `doctor --spec`. */
export async function replicationSection(host: Host, spec: HostSpec): Promise<ReplicationSection> {
  const pg = spec.postgres;
  if (!pg) return { status: 'not configured', lines: [], degraded: false };
  const installed = ((await host.readdir(DEFAULT_BIN_ROOT)) ?? []).map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const debianPort = 'cluster' in pg.instance ? parsePortFromConf(await host.readText(`/etc/postgresql/${pg.instance.version}/${pg.instance.cluster}/postgresql.conf`)) : undefined;
  const inst = resolveInstance(pg.instance, installed, debianPort);
  const r = await psqlLocal(host, inst, SQL, 10_000);
  if (!r.ok) return { status: 'unreachable', want: pg.role, lines: [r.stderr.trim().split('\n')[0] || 'the server does not answer'], degraded: true };
  const [role, ...rows] = r.stdout.trim().split('\n').filter(Boolean);
  const lines = rows.map((row) => row.split('\t').join('  '));
  const streaming = rows.some((row) => row.split('\t')[1] === 'streaming');
  const status = role === 'standby' ? 'standby' : 'primary';
  return { status, want: pg.role, lines, degraded: status !== pg.role || (status === 'standby' && !streaming) || (status === 'primary' && rows.some((row) => row.split('\t')[1] !== 'streaming')) };
}
