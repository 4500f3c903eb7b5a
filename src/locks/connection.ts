/**
 * One ioredis connection per acquisition, configured to fail fast: an unreachable or
 * misconfigured Redis must become a LockBackendError in seconds, never a hang.
 */
import { Redis } from 'ioredis';
import { LockBackendError } from './types.js';

export interface RedisConnectOptions {
  /** TCP connect plus handshake (AUTH, ready check). */
  connectTimeoutMs?: number;
  /** Every command after that, so a frozen Redis cannot hang assertHeld or a keep-alive. */
  commandTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;

export interface Connection {
  client: Redis;
  /** host:port, never the password: used in user-facing messages. */
  where: string;
  /** Map a command failure to a one-line LockBackendError. */
  fail(err: unknown, key?: string): LockBackendError;
  close(): Promise<void>;
}

export function describeRedisUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new LockBackendError(`invalid Redis URL (expected redis://[:password@]host[:port][/db])`, 'config');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new LockBackendError(`invalid Redis URL: scheme ${u.protocol} is not redis: or rediss:`, 'config');
  }
  return `${u.hostname}:${u.port || '6379'}`;
}

/** A Redis found through Sentinel (DESIGN §8.4 rule 11): the sentinels' addresses and the master's name. */
export interface SentinelTarget {
  sentinels: { host: string; port: number }[];
  master: string;
  password?: string;
}

/** A URL, or a Sentinel set: the fleet's `redis:` resolved. */
export type RedisTarget = string | SentinelTarget;

export function describeRedisTarget(target: RedisTarget): string {
  return typeof target === 'string' ? describeRedisUrl(target) : `master ${target.master} via sentinels ${target.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
}

export async function openRedis(target: RedisTarget, opts: RedisConnectOptions = {}): Promise<Connection> {
  const where = describeRedisTarget(target);
  const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  let everReady = false;
  let lastError: Error | undefined;
  const sentinel =
    typeof target === 'string'
      ? undefined
      : {
          sentinels: target.sentinels,
          name: target.master,
          password: target.password,
          // No retries through the sentinels before the first success either.
          sentinelRetryStrategy: (times: number) => (everReady ? Math.min(100 * 2 ** times, 2000) : null),
          failoverDetector: true,
          // A demoted master answers READONLY: reconnect, and Sentinel names the new one.
          reconnectOnError: (err: Error) => err.message.startsWith('READONLY'),
        };
  const options = {
    ...sentinel,
    lazyConnect: true,
    // Commands issued while disconnected fail at once instead of queueing behind a reconnect.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: connectTimeoutMs,
    commandTimeout: opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    // No retries before the first success (fail fast); afterwards reconnect in the background so a
    // short blip does not cost the lease if a later keep-alive gets through.
    retryStrategy: (times: number) => (everReady ? Math.min(100 * 2 ** times, 2000) : null),
    autoResubscribe: false,
  } as const;
  const client = typeof target === 'string' ? new Redis(target, options) : new Redis(options);
  // ioredis reports the real cause (ECONNREFUSED, WRONGPASS) only as an 'error' event; connect()
  // itself rejects with a generic "Connection is closed". Listening also silences its console noise.
  client.on('error', (err: Error) => {
    lastError = err;
  });
  const fail = (err: unknown, key?: string) => toBackendError(err, where, connectTimeoutMs, key);

  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), connectTimeoutMs);
      }),
    ]);
  } catch (err) {
    client.disconnect();
    throw fail(lastError ?? err);
  } finally {
    clearTimeout(timer);
  }
  everReady = true;
  return {
    client,
    where,
    fail,
    close: async () => {
      try {
        await client.quit();
      } catch {
        // quit needs a live connection; without one, just drop the socket.
      }
      client.disconnect();
    },
  };
}

export function toBackendError(err: unknown, where: string, connectTimeoutMs: number, key?: string): LockBackendError {
  if (err instanceof LockBackendError) return err;
  const e = err as { code?: string; message?: string } | undefined;
  const code = e?.code ?? '';
  const msg = String(e?.message ?? err).split('\n')[0]!;
  const at = key ? ` (key ${key})` : '';
  const make = (text: string, reason: LockBackendError['reason']) => new LockBackendError(text, reason, { cause: err });

  if (code === 'ECONNREFUSED' || msg.includes('ECONNREFUSED'))
    return make(`cannot reach Redis at ${where}: connection refused`, 'unreachable');
  if (code === 'ETIMEDOUT' || msg.includes('ETIMEDOUT'))
    return make(`cannot reach Redis at ${where}: no answer within ${connectTimeoutMs} ms`, 'timeout');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return make(`cannot reach Redis at ${where}: host name does not resolve`, 'unreachable');
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH')
    return make(`cannot reach Redis at ${where}: no route to host`, 'unreachable');
  if (code === 'ECONNRESET' || code === 'EPIPE')
    return make(`Redis at ${where} closed the connection`, 'unreachable');
  if (msg.startsWith('WRONGPASS'))
    return make(`Redis at ${where} rejected the password (WRONGPASS): check the password in the lock.redis URL`, 'auth');
  if (msg.startsWith('NOAUTH') || msg.includes('NOAUTH'))
    return make(`Redis at ${where} requires a password (NOAUTH): put it in the lock.redis URL`, 'auth');
  if (msg.includes('NOPERM'))
    return make(`Redis at ${where} refused a lock command for this user (NOPERM)${at}`, 'auth');
  const wrongType = /WRONGTYPE (\S+) holds an? (.+?)(?: script: .*)?$/.exec(msg);
  if (wrongType)
    return make(
      `Redis key ${wrongType[1]} at ${where} holds a ${wrongType[2]}, not a reconcile lock: remove it or use another key prefix`,
      'wrongtype',
    );
  if (msg.includes('WRONGTYPE'))
    return make(`a Redis key at ${where}${at} holds the wrong type of value for a reconcile lock`, 'wrongtype');
  if (msg.includes('not an integer'))
    return make(`a Redis key at ${where}${at} should hold an integer fencing counter but does not`, 'wrongtype');
  if (msg.includes('Command timed out'))
    return make(`Redis at ${where} did not answer within its command timeout`, 'timeout');
  if (msg.includes("Stream isn't writeable") || msg.includes('Connection is closed'))
    return make(`lost the connection to Redis at ${where}`, 'unreachable');
  if (msg.startsWith('LOADING')) return make(`Redis at ${where} is still loading its data set`, 'unreachable');
  if (msg.startsWith('READONLY')) return make(`Redis at ${where} is a read-only replica: point lock.redis at the primary`, 'config');
  return make(`Redis error at ${where}${at}: ${msg}`, 'other');
}
