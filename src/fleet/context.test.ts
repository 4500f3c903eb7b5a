import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson, fleetContextFor, mergedSpecDigest, slotLimit } from './context.js';

function fleetRepo(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-context-'));
  mkdirSync(path.join(dir, 'hosts'));
  writeFileSync(
    path.join(dir, 'fleet.yaml'),
    `name: prod
hosts:
  web1: {address: 127.0.0.11, groups: [web, dc1]}
  web2: {address: 127.0.0.12, groups: [web]}
  web3: {address: 127.0.0.13, groups: [web]}
groups:
  web: {rollout: {maxParallel: "50%", canary: 1}}
  dc1: {}
defaults: {rollout: {maxFailures: 2}}
redis: {env: FLEET_REDIS_URL}
`,
  );
  for (const h of ['web1', 'web2', 'web3']) writeFileSync(path.join(dir, 'hosts', `${h}.yaml`), `host: ${h}\n`);
  writeFileSync(path.join(dir, 'stray.yaml'), 'host: stray\n');
  return dir;
}

describe('fleetContextFor', () => {
  it('resolves the host, its groups in name order with defaults filled in, and the fleet name', () => {
    const dir = fleetRepo();
    const ctx = fleetContextFor(path.join(dir, 'hosts', 'web1.yaml'))!;
    expect(ctx.name).toBe('prod');
    expect(ctx.host.name).toBe('web1');
    expect(ctx.groups.map((g) => g.name)).toEqual(['dc1', 'web']);
    const web = ctx.groups[1]!;
    expect(web).toMatchObject({ size: 3, rollout: { maxParallel: '50%', maxFailures: 2, canary: 1, gate: 'restart', wait: '5m' } });
    expect(slotLimit(web)).toBe(1);
    expect(ctx.redis).toEqual({ env: 'FLEET_REDIS_URL' });
  });

  it('is undefined for a file no host of the fleet names, and outside any fleet', () => {
    const dir = fleetRepo();
    expect(fleetContextFor(path.join(dir, 'stray.yaml'))).toBeUndefined();
    const lone = mkdtempSync(path.join(tmpdir(), 'no-fleet-'));
    writeFileSync(path.join(lone, 'h.yaml'), 'host: h\n');
    expect(fleetContextFor(path.join(lone, 'h.yaml'))).toBeUndefined();
  });
});

describe('slotLimit', () => {
  const group = (maxParallel: number | string, size: number) => ({ name: 'g', size, rollout: { maxParallel, maxFailures: 1, canary: 0, gate: 'restart' as const, wait: '5m', afterTimeout: '30m' } });
  it('takes an integer as it is and a percentage of the group rounded down, at least 1', () => {
    expect(slotLimit(group(3, 100))).toBe(3);
    expect(slotLimit(group('10%', 100))).toBe(10);
    expect(slotLimit(group('10%', 19))).toBe(1);
    expect(slotLimit(group('1%', 5))).toBe(1);
    expect(slotLimit(group('100%', 7))).toBe(7);
  });
});

describe('mergedSpecDigest', () => {
  it('does not depend on key order at any depth, and does on values and list order', () => {
    const a = { host: 'h', units: [{ name: 'a', enabled: true }], postgres: { settings: { a: '1', b: '2' } } };
    const b = { postgres: { settings: { b: '2', a: '1' } }, units: [{ enabled: true, name: 'a' }], host: 'h' };
    expect(canonicalJson(b)).toBe(canonicalJson(a));
    expect(mergedSpecDigest(b)).toBe(mergedSpecDigest(a));
    expect(mergedSpecDigest({ ...a, units: [{ name: 'a', enabled: false }] })).not.toBe(mergedSpecDigest(a));
    expect(mergedSpecDigest({ x: [1, 2] })).not.toBe(mergedSpecDigest({ x: [2, 1] }));
  });
});
