import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseSchedule, quote, scheduledUnits, unitsFragmentYaml, type Schedule } from './units.js';
import { driftTimerUnits } from '../drift/timer.js';

const every = (text: string) => parseSchedule(text) as Schedule;

/** `systemd-analyze verify` of the files as systemd would load them from /etc/systemd/system. */
function verify(units: { name: string; content?: string }[]): { status: number | null; output: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-sched-'));
  try {
    for (const u of units) writeFileSync(path.join(dir, u.name), u.content!);
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...units.map((u) => path.join(dir, u.name))], { encoding: 'utf8' });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('scheduled units (drift and pull share them)', () => {
  it('an interval is monotonic (OnBootSec + OnUnitActiveSec), never Persistent=', () => {
    const [service, timer] = scheduledUnits({ name: 'x-test', description: 'x', argv: ['/bin/true'], schedule: every('15m'), randomizedDelayMs: 300_000, successExitStatus: [2], timeoutStartMs: 70 * 60_000 });
    expect(service!.content).toContain('ExecStart=/bin/true\nSuccessExitStatus=2\nTimeoutStartSec=4200s\n');
    expect(timer).toMatchObject({ name: 'x-test.timer', enabled: true, state: 'running' });
    expect(timer!.content).toContain('[Timer]\nOnBootSec=900s\nOnUnitActiveSec=900s\nRandomizedDelaySec=300s\n');
    expect(timer!.content).not.toContain('Persistent');
    expect(timer!.content).not.toContain('OnCalendar');
  });

  it('a calendar period is OnCalendar= with Persistent=true', () => {
    const [, timer] = scheduledUnits({ name: 'x-test', description: 'x', argv: ['/bin/true'], schedule: every('daily'), randomizedDelayMs: 8 * 3_600_000 });
    expect(timer!.content).toContain('[Timer]\nOnCalendar=daily\nPersistent=true\nRandomizedDelaySec=28800s\n');
    expect(timer!.content).not.toContain('OnUnitActiveSec');
  });

  it('refuses a well-formed duration longer than a week, saying why (a host so rarely reporting is not watched)', () => {
    expect(parseSchedule('168h')).toMatchObject({ kind: 'interval', ms: 7 * 86_400_000 });
    for (const long of ['169h', '10081m', '99999999h', '9'.repeat(40) + 's']) expect(parseSchedule(long)).toBe(`--every ${long} is longer than a week (168h); a host that reports so rarely is not watched: use at most 168h, or weekly`);
  });

  it('refuses what is not a schedule, saying what is', () => {
    for (const bad of ['0s', '0', '500ms', '-5m', '15m; rm -rf /', '15m\nOnCalendar=minutely', ' 15m', 'fortnightly', '15', '15 m', '1d', '*:0/15', 'daily\nOnCalendar=minutely', 'DAILY', '']) {
      expect(parseSchedule(bad)).toMatch(/^--every must be a duration of at least 1s such as 15m or 1h, or hourly, daily or weekly, not /);
    }
  });

  it('systemd-analyze verify accepts both units, for each kind of schedule', () => {
    for (const s of ['30s', '15m', '1h30m', 'hourly', 'weekly']) {
      const units = scheduledUnits({ name: 'reconcile-vtest', description: 'a 100% test', argv: ['/bin/true', 'a b', '%h'], schedule: every(s), randomizedDelayMs: every(s).ms / 3, successExitStatus: [2], environmentFile: '/etc/reconcile/pull.env', credentials: [{ id: 'db', path: '/etc/reconcile/db.pass' }] });
      const r = verify(units);
      expect(r.output).toBe('');
      expect(r.status).toBe(0);
    }
  });

  it('secrets are named by file, never by value; a path with blanks or line breaks is refused', () => {
    const [service] = scheduledUnits({ name: 'x', description: 'x', argv: ['/bin/true'], schedule: every('1m'), randomizedDelayMs: 20_000, environmentFile: '/etc/reconcile/pull.env', credentials: [{ id: 'REPL', path: '/etc/reconcile/repl' }] });
    expect(service!.content).toContain('EnvironmentFile=/etc/reconcile/pull.env\nLoadCredential=REPL:/etc/reconcile/repl\n');
    expect(() => scheduledUnits({ name: 'x', description: 'x', argv: ['/bin/true'], schedule: every('1m'), randomizedDelayMs: 1, environmentFile: '/etc/x\nExecStartPre=/bin/evil' })).toThrow(/absolute path without blanks/);
    expect(() => scheduledUnits({ name: 'x', description: 'x', argv: ['/bin/true'], schedule: every('1m'), randomizedDelayMs: 1, environmentFile: 'relative.env' })).toThrow(/absolute path/);
  });

  it('the drift check: exit 2 is success, low priority, its jitter a tenth of the interval up to a minute', () => {
    const [service, timer] = driftTimerUnits({ spec: '/etc/reconcile/my host.yaml', schedule: every('15m'), bin: 'reconcile', format: 'prom', report: '/var/lib/node_exporter/textfile/reconcile.prom' });
    expect(service!.content).toContain('ExecStart=reconcile drift "/etc/reconcile/my host.yaml" --format prom --report /var/lib/node_exporter/textfile/reconcile.prom\nSuccessExitStatus=2\n');
    expect(service!.content).toContain('Nice=10\n');
    expect(timer!.content).toContain('RandomizedDelaySec=60s\n');
    expect(driftTimerUnits({ spec: '/s.yaml', schedule: every('1m'), bin: 'reconcile' })[1]!.content).toContain('RandomizedDelaySec=6s\n');
  });

  it('the fragment YAML gives the units back as they are, unit files as literal blocks', async () => {
    const units = driftTimerUnits({ spec: '/srv/x: y #z.yaml', schedule: every('daily'), bin: 'reconcile' });
    const text = await unitsFragmentYaml(units, 'line one\nline two');
    expect(text).toMatch(/^# line one\n# line two\nunits:\n/);
    expect(text).toContain('    content: |\n      [Unit]\n');
    expect(parse(text)).toEqual({ units });
  });
});

describe('ExecStart= words', () => {
  it('doubles systemd specifiers and expansions, quotes blanks', () => {
    expect(quote('/srv/specs/db1.yaml')).toBe('/srv/specs/db1.yaml');
    expect(quote('/srv/100%/x')).toBe('/srv/100%%/x');
    expect(quote('/srv/$HOME/x')).toBe('/srv/$$HOME/x');
    expect(quote('/srv/my specs/a "b".yaml')).toBe('"/srv/my specs/a \\"b\\".yaml"');
    // A line break would end the ExecStart= line and start another key: it stays a C escape.
    expect(quote('/srv/x\nExecStartPre=/bin/evil')).toBe('"/srv/x\\x0aExecStartPre=/bin/evil"');
  });
});
