/**
 * The health gate on the live machine (the part that does not need systemd as PID 1): a
 * health.command argv run for real, health.http against a real server on loopback, and a real
 * PostgreSQL the plan changed.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Host } from '../host/host.js';
import type { Plan } from '../plan/types.js';
import { urlForMessages, healthGate } from './health.js';
import { describeNeeding } from '../../test/helpers/prereq.js';
import { PG_BIN, startCluster, type Cluster } from '../../test/helpers/pg.js';

const plan = { changes: [] } as unknown as Plan;
const spec = { host: 'h' };
let server: Server;
let base = '';
let status = 200;

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.statusCode = status;
    res.end('x');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('healthGate on a live host', () => {
  const host = new Host('/');

  it('passes when the command exits 0 and the URL answers 2xx', async () => {
    status = 204;
    expect(await healthGate(host, plan, spec, { command: ['true'], http: `${base}/ok`, timeout: '5s' })).toBeUndefined();
  });

  it('fails, naming the argv, when the command keeps failing past the timeout', async () => {
    status = 200;
    expect(await healthGate(host, plan, spec, { command: ['sh', '-c', 'exit 3', 'a b;c'], timeout: '1500ms' })).toBe(
      'not healthy within the health timeout: health.command ["sh","-c","exit 3","a b;c"] exited 3',
    );
  });

  it('fails when the URL answers 503, and when nothing listens', async () => {
    status = 503;
    expect(await healthGate(host, plan, spec, { http: `${base}/x`, timeout: '1500ms' })).toBe(`not healthy within the health timeout: health.http ${base}/x answered 503`);
    expect(await healthGate(host, plan, spec, { http: 'http://127.0.0.1:1/', timeout: '1s' })).toMatch(/^not healthy within the health timeout: health\.http http:\/\/127\.0\.0\.1:1\/: fetch failed$/);
  });
});

describeNeeding({ root: 'PostgreSQL runs as the postgres user', commands: { [`${PG_BIN}/initdb`]: 'postgresql-15' } }, 'healthGate and a PostgreSQL the plan changed', () => {
  let pg: Cluster;
  beforeAll(async () => {
    pg = await startCluster();
  }, 60_000);
  afterAll(() => pg?.destroy());
  const pgPlan = { changes: [{ kind: 'postgres', address: 'postgres.settings[work_mem]' }] } as unknown as Plan;
  const pgSpec = (role: 'primary' | 'standby') => ({ host: 'h', postgres: { instance: { dataDir: pg.dataDir, port: pg.port, bin: PG_BIN, socketDir: pg.socketDir, control: 'pg_ctl' as const }, role } }) as never;
  const host = new Host('/');

  it('passes once the server has accepted connections for stableFor', async () => {
    expect(await healthGate(host, pgPlan, pgSpec('primary'), { stableFor: '1s', timeout: '20s' })).toBeUndefined();
  }, 30_000);

  it('fails a standby that does not stream, and a server that is down', async () => {
    expect(await healthGate(host, pgPlan, pgSpec('standby'), { stableFor: '1s', timeout: '1500ms' })).toBe(
      `not healthy within the health timeout: the standby on port ${pg.port} is not streaming (wal receiver: none)`,
    );
    pg.stop();
    expect(await healthGate(host, pgPlan, pgSpec('primary'), { stableFor: '1s', timeout: '1500ms' })).toMatch(
      new RegExp(`^not healthy within the health timeout: PostgreSQL on port ${pg.port} does not accept connections: .+`),
    );
  }, 30_000);
});

describe('the health URL in messages', () => {
  it('keeps scheme, host and path, never credentials or a query', () => {
    expect(urlForMessages('http://admin:s3cr3t@127.0.0.1:8080/healthz?token=abc')).toBe('http://127.0.0.1:8080/healthz?…');
    expect(urlForMessages('https://[::1]/ready')).toBe('https://[::1]/ready');
    expect(urlForMessages('not a url s3cr3t')).toBe('(an unparsable URL)');
  });
});
