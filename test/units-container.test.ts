/**
 * The units kind (and the timezone kind's live path) on a real systemd: a booted container
 * (test/helpers/container.ts), with `reconcile apply` run INSIDE it as an operator runs it on a
 * host. Asserts on what systemd itself reports (is-enabled, is-active, MainPID, timedatectl).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Container, CONTAINER_NEEDS } from './helpers/container.js';
import { describeNeeding, missing } from './helpers/prereq.js';

const usable = missing(CONTAINER_NEEDS).length === 0;

const SPEC = '/root/spec.yaml';
let c: Container;

beforeAll(async () => {
  if (usable) c = await Container.boot();
}, 240_000);
afterAll(async () => {
  await c?.shutdown();
}, 60_000);

function unitSpec(units: string, extra = ''): string {
  return `host: ${c.name}\n${extra}units:\n${units}`;
}
const indent = (text: string, n: number) => text.replace(/^(?=.)/gm, ' '.repeat(n));
const sleeper = (exec: string, more = '') => `  - name: sleeper.service
    content: |
${indent(`[Unit]\nDescription=reconcile test sleeper\n[Service]\nExecStart=${exec}\n[Install]\nWantedBy=multi-user.target\n`, 6)}    enabled: true
    state: running
${more}`;

async function apply(spec: string) {
  c.writeFile(SPEC, spec);
  return c.reconcile(['apply', SPEC, '--yes']);
}
const mainPid = async (unit: string) => Number(await c.sh(['systemctl', 'show', '-p', 'MainPID', '--value', unit]));
const state = async (verb: 'is-enabled' | 'is-active', unit: string) => (await c.exec(['systemctl', verb, unit])).stdout.trim();

describeNeeding(CONTAINER_NEEDS, 'units on a real systemd (inside a container)', () => {
  it('writes, enables and starts a new service in one apply; the next plan is empty', async () => {
    const a = await apply(unitSpec(sleeper('/bin/sleep infinity')));
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toContain('systemctl daemon-reload');
    expect(c.readFile('/etc/systemd/system/sleeper.service')).toContain('ExecStart=/bin/sleep infinity');
    expect(await state('is-enabled', 'sleeper.service')).toBe('enabled');
    expect(await state('is-active', 'sleeper.service')).toBe('active');
    expect(await mainPid('sleeper.service')).toBeGreaterThan(0);
    const p = await c.reconcile(['plan', SPEC]);
    expect(p.stdout).toContain('in sync');
    expect(p.exitCode).toBe(0);
  }, 120_000);

  it('restarts the service when its ExecStart or a drop-in changes (MainPID changes)', async () => {
    const first = await mainPid('sleeper.service');
    const a = await apply(unitSpec(sleeper('/bin/sleep 86400')));
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toContain('systemctl restart sleeper.service');
    const second = await mainPid('sleeper.service');
    expect(second).toBeGreaterThan(0);
    expect(second).not.toBe(first);
    expect((await c.sh(['cat', `/proc/${second}/cmdline`])).split('\0').filter(Boolean)).toEqual(['/bin/sleep', '86400']);

    const d = await apply(unitSpec(sleeper('/bin/sleep 86400', '    dropins:\n      10-env.conf: "[Service]\\nEnvironment=RECONCILE_TEST=1\\n"\n')));
    expect(d.exitCode).toBe(0);
    const third = await mainPid('sleeper.service');
    expect(third).not.toBe(second);
    expect(await c.sh(['systemctl', 'show', '-p', 'Environment', '--value', 'sleeper.service'])).toBe('RECONCILE_TEST=1');
    expect(await state('is-active', 'sleeper.service')).toBe('active');
    expect((await c.reconcile(['plan', SPEC])).exitCode).toBe(0);
  }, 120_000);

  it('does a restart owed by an earlier apply that failed after writing the file', async () => {
    // What an apply leaves when it dies between the write and the restart: the debt is recorded.
    const before = await mainPid('sleeper.service');
    const record = JSON.parse(c.readFile('/var/lib/reconcile/units.json')!);
    record.units['sleeper.service'].owe = 'restart';
    c.writeFile('/var/lib/reconcile/units.json', JSON.stringify(record));
    const p = await c.reconcile(['plan', SPEC]);
    expect(p.exitCode).toBe(2);
    expect(p.stdout).toContain('owed since an earlier apply');
    const a = await c.reconcile(['apply', SPEC, '--yes']);
    expect(a.exitCode).toBe(0);
    expect(await mainPid('sleeper.service')).not.toBe(before);
    expect(JSON.parse(c.readFile('/var/lib/reconcile/units.json')!).units['sleeper.service'].owe).toBeUndefined();
    expect((await c.reconcile(['plan', SPEC])).exitCode).toBe(0);
  }, 120_000);

  it('stops and disables a packaged unit (the snapd.service remedy)', async () => {
    c.writeFile('/lib/systemd/system/vendord.service', '[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n');
    await c.sh(['systemctl', 'daemon-reload']);
    await c.sh(['systemctl', 'enable', '--now', 'vendord.service']); // inside the container
    expect(await state('is-active', 'vendord.service')).toBe('active');
    const a = await apply(unitSpec(`  - {name: vendord.service, enabled: false, state: stopped}\n`));
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    expect(await state('is-active', 'vendord.service')).toBe('inactive');
    expect(await state('is-enabled', 'vendord.service')).toBe('disabled');
    expect((await c.reconcile(['plan', SPEC])).exitCode).toBe(0);
  }, 120_000);

  it('sets the time zone through timedated (the timezone kind live)', async () => {
    const a = await apply(`host: ${c.name}\ntimezone: Asia/Shanghai\n`);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    expect(await c.sh(['timedatectl', 'show', '-p', 'Timezone', '--value'])).toBe('Asia/Shanghai');
    expect((await c.reconcile(['plan', SPEC])).exitCode).toBe(0);
  }, 120_000);

  it('refuses a relative ExecStart at validation, before anything is written', async () => {
    const spec = unitSpec(`  - name: broken.service
    content: |
      [Service]
      ExecStart=bin/sleep infinity
    state: running
`);
    const a = await apply(spec);
    expect(a.exitCode).toBe(1);
    // FILE:LINE:COL at the content key (line 4 of the spec).
    expect(a.stderr).toMatch(/\/root\/spec\.yaml:4:5: units\[broken\.service\]: content line 2: ExecStart= must name its program by absolute path or a bare file name \(systemd searches its path for it\), not "bin\/sleep"/);
    expect(c.readFile('/etc/systemd/system/broken.service')).toBeNull();
    expect(await state('is-active', 'broken.service')).toBe('inactive');
  }, 120_000);

  it('reports systemd-analyze verify findings as spec errors', async () => {
    const a = await apply(unitSpec(`  - name: typo.service
    content: |
      [Service
      ExecStart=/bin/true
`));
    expect(a.exitCode).toBe(1);
    expect(a.stderr).toMatch(/spec\.yaml:4:5: units\[typo\.service\]: content line 1: Invalid section header/);
    expect(c.readFile('/etc/systemd/system/typo.service')).toBeNull();
  }, 120_000);

  it('shows the last journal lines of a unit that fails to start', async () => {
    const a = await apply(unitSpec(`  - name: failing.service
    content: |
      [Service]
      ExecStart=/bin/sh -c "echo reconcile-boom-marker >&2; exit 3"
    state: running
`));
    expect(a.exitCode).toBe(1);
    const out = a.stdout + a.stderr;
    expect(out).toContain('journalctl -u failing.service -n 20 --no-pager');
    expect(out).toContain('reconcile-boom-marker');
  }, 120_000);
});
