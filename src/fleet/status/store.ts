/**
 * The fleet's Redis side of status (DESIGN §8.5): the connection, the write a host makes after a
 * run, the batched read of `fleet status`, and the event stream. Round trips are counted: a write
 * is two (TIME with the previous identity read, then one MULTI), a read one per batch of hosts.
 */
import type { Redis } from 'ioredis';
import { UserError } from '../../errors.js';
import { fleetKeys } from './keys.js';
import { appendEvent, who } from '../../locks/slots.js';
import type { StatusRecord } from './record.js';

/** Events (grants, releases, human controls) are kept to about this many. */
export const READ_BATCH = 500;

/** What a status write stores beside the record: who wrote the key before, when another machine did. */
export interface StoredStatus {
  record: StatusRecord | null;
  /** Redis time (ms) of the write. */
  at: number;
  machineId: string | null;
  /** A different machine that reported under the same name before the current one. */
  other: { machineId: string; at: number } | null;
  /** The raw hash when the record did not parse (a forged or foreign key). */
  broken?: string;
}

export async function redisTimeMs(client: Redis): Promise<number> {
  const [s, us] = (await client.time()) as [number | string, number | string];
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/**
 * One host's write: the record under the Redis time, the `seen` score, the announcement. `build`
 * gets the Redis time so lastConverged.at is on the same clock as every other host's.
 */
export async function writeStatus(client: Redis, fleet: string, host: string, machineId: string, build: (now: number) => StatusRecord): Promise<StatusRecord> {
  const k = fleetKeys(fleet);
  const key = k.status(host);
  // Reads only: a pipeline, no transaction needed.
  const first = await client.pipeline().time().hmget(key, 'machineId', 'at').exec();
  if (!first || first.some(([e]) => e)) throw first?.find(([e]) => e)?.[0] ?? new Error('the status write was aborted');
  const [s, us] = first[0]![1] as [string, string];
  const now = Number(s) * 1000 + Math.floor(Number(us) / 1000);
  const [prevId, prevAt] = first[1]![1] as (string | null)[];
  const record = build(now);
  const fields: Record<string, string> = { record: JSON.stringify(record), at: String(now), machineId };
  // Another machine wrote this name before: kept, so `fleet status` can say "duplicate identity".
  if (prevId && prevId !== machineId) Object.assign(fields, { otherMachineId: prevId, otherAt: prevAt ?? '0' });
  const done = await client.multi().hset(key, fields).zadd(k.seen, now, host).set(k.epoch, String(now), 'NX').publish(k.channel, host).exec();
  const failed = done?.find(([e]) => e);
  if (!done || failed) throw failed?.[0] ?? new Error('the status write was aborted');
  return record;
}

export function parseStored(hash: Record<string, string>): StoredStatus | null {
  if (!hash || Object.keys(hash).length === 0) return null;
  const at = Number(hash.at);
  let record: StatusRecord | null = null;
  let broken: string | undefined;
  try {
    const r = JSON.parse(hash.record ?? '') as StatusRecord;
    if (r && typeof r === 'object' && typeof r.host === 'string' && typeof r.result === 'string') record = r;
    else broken = 'not a status record';
  } catch {
    broken = 'not a status record';
  }
  const other = hash.otherMachineId ? { machineId: hash.otherMachineId, at: Number(hash.otherAt) || 0 } : null;
  return { record, at: Number.isFinite(at) ? at : 0, machineId: hash.machineId ?? null, other, broken };
}

export interface FleetSnapshot {
  /** Redis time (ms) when read. */
  now: number;
  /** Seconds since the Redis server started, and its run id. */
  uptimeSec: number;
  runId: string;
  /** When this data set got its first status write (null: none yet). */
  epoch: number | null;
  /** host -> last seen (ms), from the `seen` set. */
  seen: Map<string, number>;
  status: Map<string, StoredStatus>;
}

/** Every host's status: the inventory's names and whatever `seen` holds, one round trip per batch. */
export async function readFleet(client: Redis, fleet: string, names: string[]): Promise<FleetSnapshot> {
  const k = fleetKeys(fleet);
  const head = await client.multi().time().info('server').zrange(k.seen, 0, -1, 'WITHSCORES').get(k.epoch).exec();
  const failed = head?.find(([e]) => e);
  if (!head || failed) throw failed?.[0] ?? new Error('the status read was aborted');
  const [s, us] = head[0]![1] as [string, string];
  const info = String(head[1]![1]);
  const flat = head[2]![1] as string[];
  const epoch = head[3]![1] === null ? null : Number(head[3]![1]);
  const seen = new Map<string, number>();
  for (let i = 0; i + 1 < flat.length; i += 2) seen.set(flat[i]!, Number(flat[i + 1]));
  const all = [...new Set([...names, ...seen.keys()])];
  const status = new Map<string, StoredStatus>();
  for (let i = 0; i < all.length; i += READ_BATCH) {
    const batch = all.slice(i, i + READ_BATCH);
    const p = client.pipeline();
    for (const h of batch) p.hgetall(k.status(h));
    const out = (await p.exec()) ?? [];
    batch.forEach((h, j) => {
      const [e, v] = out[j] ?? [new Error('no answer'), null];
      if (e) throw e;
      const parsed = parseStored(v as Record<string, string>);
      if (parsed) status.set(h, parsed);
    });
  }
  return {
    now: Number(s) * 1000 + Math.floor(Number(us) / 1000),
    uptimeSec: Number(/uptime_in_seconds:(\d+)/.exec(info)?.[1] ?? 0),
    runId: /run_id:(\w+)/.exec(info)?.[1] ?? '',
    epoch,
    seen,
    status,
  };
}

/** One event on the fleet's capped stream, in the one shape every writer uses (src/locks/slots.ts). */
export async function appendStatusEvent(client: Redis, fleet: string, { event, ...fields }: Record<string, string> & { event: string }): Promise<string> {
  return appendEvent(client, fleet, { type: event, ...fields });
}

/** `fleet forget HOST`: its keys go, the event stays. */
export async function forgetHost(client: Redis, fleet: string, host: string, reason: string): Promise<boolean> {
  const k = fleetKeys(fleet);
  const out = await client.multi().del(k.status(host)).zrem(k.seen, host).del(k.unblock(host)).exec();
  await appendStatusEvent(client, fleet, { event: 'forget', host, reason });
  return Number(out?.[0]?.[1] ?? 0) + Number(out?.[1]?.[1] ?? 0) > 0;
}

/** `fleet unblock HOST`: the host's next after: wait lets it go once. */
export async function unblockHost(client: Redis, fleet: string, host: string, reason: string): Promise<void> {
  const k = fleetKeys(fleet);
  const by = who();
  await client.multi().set(k.unblock(host), JSON.stringify({ who: by, reason, at: new Date().toISOString() })).publish(k.channel, host).exec();
  await appendStatusEvent(client, fleet, { event: 'unblock', host, reason, who: by });
}
