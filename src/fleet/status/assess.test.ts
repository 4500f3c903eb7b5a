import { describe, expect, it } from 'vitest';
import { assessFleet, compareVersions, staleAfterMs, type AssessInput } from './assess.js';
import { nextRecord, type StatusRecord } from './record.js';
import type { StoredStatus } from './store.js';
import { renderStatusText } from './render.js';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const HOUR = 3600_000;

function rec(host: string, over: Partial<StatusRecord> = {}): StatusRecord {
  const base = nextRecord({ source: 'apply', result: 'converged', exit: 0, commit: 'c1', pending: [] }, { host, machineId: `m-${host}`, interval: 900, specDigest: `d-${host}`, version: '1.2.0' }, null, NOW - 60_000);
  return { ...base, ...over };
}

function input(status: [string, Partial<StoredStatus> & { record: StatusRecord | null }][], over: Partial<AssessInput> = {}): AssessInput {
  const names = ['a', 'b'];
  return {
    fleet: 'f',
    inventory: new Map(names.map((n) => [n, []])),
    status: new Map(status.map(([h, s]) => [h, { at: NOW - 60_000, machineId: `m-${h}`, other: null, ...s }])),
    now: NOW,
    epoch: NOW - 24 * HOUR,
    headDigest: new Map(names.map((n) => [n, `d-${n}`])),
    ...over,
  };
}

const attention = (i: AssessInput) => Object.fromEntries(assessFleet(i).hosts.map((h) => [h.host, h.attention]));

describe('assessFleet: one case per rule of DESIGN §8.5', () => {
  it('two converged hosts on HEAD: nothing', () => {
    const v = assessFleet(input([['a', { record: rec('a') }], ['b', { record: rec('b') }]]));
    expect(v.attention).toBe(false);
    expect(v.counts).toMatchObject({ hosts: 2, reported: 2, converged: 2 });
  });

  it('stale only past 2 × interval + 5 min', () => {
    const edge = staleAfterMs(900);
    expect(edge).toBe(35 * 60_000);
    expect(attention(input([['a', { record: rec('a'), at: NOW - edge }], ['b', { record: rec('b'), at: NOW - edge - 1 }]]))).toEqual({ a: [], b: ['stale'] });
  });

  it("stale by the host's own interval: an hourly host silent for 40 min is not, a 15-minute one is", () => {
    const at = NOW - 40 * 60_000;
    expect(attention(input([['a', { record: rec('a', { interval: 3600 }), at }], ['b', { record: rec('b', { interval: 900 }), at }]]))).toEqual({ a: [], b: ['stale'] });
    // The hourly host too, once past its own 2 × 1h + 5 min.
    expect(attention(input([['a', { record: rec('a', { interval: 3600 }), at: NOW - 126 * 60_000 }], ['b', { record: rec('b') }]]))).toEqual({ a: ['stale'], b: [] });
  });

  it('never reported, unless the data set is young (Redis lost its data): then "incomplete since"', () => {
    expect(attention(input([['a', { record: rec('a') }]]))).toEqual({ a: [], b: ['never reported'] });
    const young = assessFleet(input([['a', { record: rec('a') }]], { epoch: NOW - 10 * 60_000 }));
    expect(young.incompleteSince).toBe(NOW - 10 * 60_000);
    expect(young.attention).toBe(false);
  });

  it('duplicate identity: another machine reported under the same name within the stale window', () => {
    const dup = { record: rec('a'), other: { machineId: 'm-other', at: NOW - 5 * 60_000 } };
    const old = { record: rec('b'), other: { machineId: 'm-old', at: NOW - 10 * HOUR } };
    expect(attention(input([['a', dup], ['b', old]]))).toEqual({ a: ['duplicate identity'], b: [] });
  });

  it('behind compares spec digests, not commits; below minVersion; drift; not in fleet', () => {
    const v = input(
      [
        ['a', { record: rec('a', { commit: 'c0', version: '1.1.9', drift: 2, pending: ['timezone', 'mounts[/x]'], pendingCount: 2 }) }],
        ['b', { record: rec('b', { commit: 'c9', lastConverged: { at: NOW - HOUR, commit: 'c9', specDigest: 'old' } }) }],
        ['zz', { record: rec('zz') }],
      ],
      { minVersion: '1.2.0' },
    );
    expect(attention(v)).toEqual({ a: ['drift', 'below minVersion'], b: ['behind'], zz: ['not in fleet'] });
  });

  it('failed and blocked are counted once, as results', () => {
    const v = assessFleet(input([['a', { record: rec('a', { result: 'failed', error: 'x' }) }], ['b', { record: rec('b', { result: 'blocked', blockedBy: 'after a' }) }]]));
    expect(v.counts).toMatchObject({ failed: 1, blocked: 1 });
    expect(v.hosts.map((h) => h.why[0])).toEqual([expect.stringContaining('failed at'), 'blocked: after a']);
  });

  it('a record that does not parse is "unreadable", not a crash', () => {
    expect(attention(input([['a', { record: null, broken: 'not a status record' }], ['b', { record: rec('b') }]]))).toEqual({ a: ['unreadable'], b: [] });
  });
});

describe('nextRecord', () => {
  it('keeps the last convergence through a failure, and the pending list to 20 with a count', () => {
    const first = rec('a');
    const pending = Array.from({ length: 25 }, (_, i) => ({ address: `units[u${i}.service]`, risk: i === 3 ? ('restart' as const) : ('none' as const) }));
    const next = nextRecord({ source: 'apply', result: 'failed', exit: 1, commit: 'c2', pending, error: 'boom' }, { host: 'a', machineId: 'm', interval: 900, specDigest: 'd2', version: '1.2.0' }, first, NOW);
    expect(next.lastConverged).toEqual(first.lastConverged);
    expect(next.lastFailure).toEqual({ at: NOW, commit: 'c2', error: 'boom' });
    expect([next.pending.length, next.pendingCount, next.worstRisk]).toEqual([20, 25, 'restart']);
  });
});

describe('compareVersions', () => {
  it.each([
    ['0.10.0', '0.9.1', 1],
    ['1.2.0', '1.2.0', 0],
    ['1.2.0-rc.1', '1.2.0', -1],
    ['v2.0.0', '1.99.99', 1],
  ])('%s vs %s', (a, b, want) => expect(compareVersions(a, b)).toBe(want));
});

describe('renderStatusText', () => {
  it('an error from Redis with newlines and terminal escapes stays on its line, escaped', () => {
    const v = assessFleet(input([['a', { record: rec('a', { result: 'failed', error: 'one\n  b: forged line\u001b[31m' }) }], ['b', { record: rec('b') }]]));
    const text = renderStatusText(v);
    expect(text).not.toContain('\u001b');
    expect(text.split('\n').filter((l) => l.startsWith('  '))).toEqual([expect.stringMatching(/^  a: failed at .*: one\\n  b: forged line\\u001b\[31m$/)]);
  });
});
