/**
 * The health gate on the live machine (the part that does not need systemd as PID 1): a
 * health.command argv run for real, and health.http against a real server on loopback.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Host } from '../host/host.js';
import type { Plan } from '../plan/types.js';
import { healthGate } from './health.js';

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
