/**
 * The fleet's `redis:` as something to connect to: a secret reference to a URL, or a Sentinel set
 * (`{sentinels: [HOST:PORT…], master, password}`) whose password is a reference too.
 */
import { openRedis, type Connection, type RedisTarget } from '../locks/connection.js';
import { UserError } from '../errors.js';
import { readSecretRef } from '../spec/secrets.js';
import type { SecretRef } from '../spec/types.js';

export type FleetRedisRef = SecretRef | { sentinels: string[]; master: string; password?: SecretRef };

/** Whether the fleet's Redis fails over (Sentinel): slot scripts then carry the master's run_id (§8.4 rule 11). */
export function isSentinelRef(ref: unknown): boolean {
  return typeof ref === 'object' && ref !== null && 'sentinels' in ref;
}

/** The target, or why it cannot be read (an unset variable, an unreadable file). */
export function fleetRedisTarget(ref: FleetRedisRef, env: NodeJS.ProcessEnv = process.env): { target: RedisTarget; sentinel: boolean } | { error: string } {
  if (!('sentinels' in ref)) {
    const url = readSecretRef(ref, env);
    return 'error' in url ? { error: url.error } : { target: url.value, sentinel: false };
  }
  let password: string | undefined;
  if (ref.password) {
    const p = readSecretRef(ref.password, env);
    if ('error' in p) return { error: `the Sentinel password: ${p.error}` };
    password = p.value;
  }
  // HOST:PORT, the host possibly an IPv6 address in brackets (the schema checks the shape).
  const sentinels = ref.sentinels.map((s) => {
    const i = s.lastIndexOf(':');
    return { host: s.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(s.slice(i + 1)) };
  });
  return { target: { sentinels, master: ref.master, password }, sentinel: true };
}

/** A connection to the fleet's Redis (a URL reference or Sentinel): the one way every fleet command opens it. */
export async function openFleetRedis(ref: unknown): Promise<Connection> {
  if (ref === undefined || ref === null) throw new UserError('fleet.yaml names no redis: (the fleet at run time lives in its Redis)');
  const t = fleetRedisTarget(ref as FleetRedisRef);
  if ('error' in t) throw new UserError(`fleet.yaml: redis: ${t.error}`);
  return openRedis(t.target);
}
