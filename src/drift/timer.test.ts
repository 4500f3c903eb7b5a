import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { driftTimerUnits, withTimerUnits, quote } from './timer.js';

const units = driftTimerUnits({ spec: '/etc/reconcile/my host.yaml', every: '15m', bin: '/usr/bin/reconcile', format: 'prom', report: '/var/lib/node_exporter/textfile/reconcile.prom' });

describe('drift timer units', () => {
  it('runs the check as a oneshot whose exit 2 (drift) is not a failure, from a persistent timer', () => {
    const [service, timer] = units;
    expect(service!.content).toContain('ExecStart=/usr/bin/reconcile drift "/etc/reconcile/my host.yaml" --format prom --report /var/lib/node_exporter/textfile/reconcile.prom\n');
    expect(service!.content).toContain('SuccessExitStatus=2\n');
    expect(timer).toMatchObject({ name: 'reconcile-drift.timer', enabled: true, state: 'running' });
    expect(timer!.content).toContain('OnUnitActiveSec=15m\n');
    expect(timer!.content).toContain('WantedBy=timers.target\n');
  });

  it('adds them to the spec once, keeping comments, and replaces them when they differ', async () => {
    const spec = '# my host\nhost: a\nunits:\n  - name: x.service\n    enabled: false\n';
    const first = await withTimerUnits(spec, units);
    expect(first.changed).toBe(true);
    expect(first.text).toMatch(/^# my host\n/);
    expect(first.text).toContain('    content: |\n');
    expect(parse(first.text).units).toEqual([{ name: 'x.service', enabled: false }, ...units]);
    expect(await withTimerUnits(first.text, units)).toEqual({ text: first.text, changed: false });
    const other = driftTimerUnits({ spec: '/s.yaml', every: '1h', bin: '/b' });
    const second = await withTimerUnits(first.text, other);
    expect(parse(second.text).units).toEqual([{ name: 'x.service', enabled: false }, ...other]);
    expect(parse((await withTimerUnits('host: a\n', units)).text).units).toEqual(units);
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
