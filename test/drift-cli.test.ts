/**
 * `reconcile drift` end to end against a temporary --root: exit codes, acknowledged drift, the
 * report formats, the git commit in the report, and the --every loop stopped by SIGTERM.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import * as path from 'node:path';
import { BIN, REPO, runCli } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';

let t: ReturnType<typeof tempRoot>;
beforeEach(() => {
  t = tempRoot();
});
afterEach(() => t.cleanup());

const ADDRESSES = ['timezone', 'exports[/data/share]', 'exports[/srv/backup]', 'nfsServer'];
const ignoreAll = (until: string) => `\nignoreDrift:\n${ADDRESSES.map((a) => `  - {address: "${a}", until: "${until}", reason: "ticket 42"}`).join('\n')}\n`;

describe('reconcile drift', () => {
  it('exits 2 on drift, 0 once applied, 1 on error', async () => {
    const d = await runCli(['drift', t.spec, '--root', t.root]);
    expect(d.exitCode).toBe(2);
    expect(d.stdout).toContain('nfs1: drift: 4 changes');
    expect(d.stdout).toContain('exports[/data/share]  update, risk reload');
    // Read-only: nothing under the root changed, no state or journal appeared.
    expect(existsSync(path.join(t.root, 'var/lib/reconcile'))).toBe(false);

    expect((await runCli(['apply', t.spec, '--root', t.root, '--yes'])).exitCode).toBe(0);
    const after = await runCli(['drift', t.spec, '--root', t.root]);
    expect(after.exitCode).toBe(0);
    expect(after.stdout).toContain('nfs1: no drift');

    const bad = await runCli(['drift', path.join(t.dir, 'missing.yaml'), '--root', t.root]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/missing\.yaml: cannot read spec \(no such file\)\n$/);
    const badProm = await runCli(['drift', path.join(t.dir, 'missing.yaml'), '--root', t.root, '--format', 'prom']);
    expect(badProm.exitCode).toBe(1);
    expect(badProm.stdout).toContain('reconcile_drift_check_success 0');
    const usage = await runCli(['drift', t.spec, '--format', 'xml']);
    expect(usage.exitCode).toBe(1);
    expect(usage.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('reports acknowledged drift as acknowledged until the date, and as drift after it', async () => {
    appendFileSync(t.spec, ignoreAll('2999-12-31'));
    const d = await runCli(['drift', t.spec, '--root', t.root, '--format', 'json']);
    expect(d.exitCode).toBe(0);
    const r = JSON.parse(d.stdout);
    expect(r.drift).toEqual([]);
    expect(r.acknowledged.map((a: { address: string }) => a.address)).toEqual(ADDRESSES);
    expect(r.acknowledged[0]).toMatchObject({ until: '2999-12-31', reason: 'ticket 42' });
    // A plan still shows them, marked, and apply would still make them.
    const p = await runCli(['plan', t.spec, '--root', t.root]);
    expect(p.exitCode).toBe(2);
    expect(p.stdout).toContain('acknowledged drift until 2999-12-31: ticket 42');
  });

  it('brings expired acknowledgements back as drift', async () => {
    appendFileSync(t.spec, ignoreAll('2020-01-01'));
    const d = await runCli(['drift', t.spec, '--root', t.root, '--format', 'json']);
    expect(d.exitCode).toBe(2);
    const r = JSON.parse(d.stdout);
    expect(r.drift).toHaveLength(4);
    expect(r.warnings.join('\n')).toContain('ignoreDrift[timezone]: acknowledged until 2020-01-01, expired');
  });

  it('writes a Prometheus report and records the spec git commit', async () => {
    execFileSync('git', ['init', '-q', t.dir]);
    execFileSync('git', ['-C', t.dir, 'add', path.basename(t.spec)]);
    execFileSync('git', ['-C', t.dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'spec']);
    const commit = execFileSync('git', ['-C', t.dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const prom = path.join(t.dir, 'drift.prom');
    const d = await runCli(['drift', t.spec, '--root', t.root, '--format', 'prom', '--report', prom, '--quiet']);
    expect(d.exitCode).toBe(2);
    expect(d.stdout).toBe('');
    const text = readFileSync(prom, 'utf8');
    expect(text).toContain('reconcile_drift_changes{host="nfs1",kind="exports"} 2');
    expect(text).toContain('reconcile_drift_check_success 1');
    expect(readdirSync(t.dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const j = JSON.parse((await runCli(['drift', t.spec, '--root', t.root, '--format', 'json'])).stdout);
    expect(j.spec.git).toEqual({ commit, dirty: false, state: 'clean' });
  });

  it('--install-timer writes the units as a fragment beside the spec, never touching the spec, with no path of this machine', async () => {
    const before = readFileSync(t.spec, 'utf8');
    const r = await runCli(['drift', t.spec, '--install-timer', '--every', '15m', '--format', 'prom', '--report', '/var/lib/node_exporter/reconcile.prom', '--spec-at', '/etc/reconcile/nfs1.yaml']);
    expect(r.exitCode).toBe(0);
    const fragment = t.spec.replace(/\.yaml$/, '.drift-timer.yaml');
    expect(r.stderr).toBe(`reconcile drift: wrote ${fragment}; ${t.spec} is in no fleet, so it cannot include it: copy its units into the spec's units:, then reconcile apply ${t.spec} installs the timer\n`);
    expect(readFileSync(t.spec, 'utf8')).toBe(before);
    const text = readFileSync(fragment, 'utf8');
    const units = parseYaml(text).units as { name: string; content: string; enabled?: boolean; state?: string }[];
    expect(units.map((u) => u.name)).toEqual(['reconcile-drift.service', 'reconcile-drift.timer']);
    expect(units[0]!.content).toContain('ExecStart=reconcile drift /etc/reconcile/nfs1.yaml --format prom --report /var/lib/node_exporter/reconcile.prom\n');
    expect(units[1]).toMatchObject({ enabled: true, state: 'running' });
    expect(units[1]!.content).toContain('OnUnitActiveSec=900s\n');
    expect(units[1]!.content).not.toContain('Persistent');
    // Nothing of this checkout or this temp dir: the file is meant for git and other hosts.
    expect(text).not.toContain(REPO);
    expect(text).not.toContain(t.dir);

    // --print: the same text on stdout, nothing written; daily is a calendar timer, persistent.
    const printed = await runCli(['drift', t.spec, '--install-timer', '--every', 'daily', '--print', '--spec-at', '/etc/reconcile/nfs1.yaml']);
    expect(printed.exitCode).toBe(0);
    expect(printed.stdout).toContain('OnCalendar=daily\n');
    expect(printed.stdout).toContain('Persistent=true\n');
    expect(readFileSync(fragment, 'utf8')).toBe(text);

    // The fragment is a valid part of a spec: the spec with its units validates.
    const withUnits = path.join(t.dir, 'with-units.yaml');
    writeFileSync(withUnits, `${before.trimEnd()}\n${text.replace(/^#.*\n/gm, '')}`);
    const v = await runCli(['validate', withUnits]);
    expect(v.stderr).not.toMatch(/error/);
    expect(v.exitCode).toBe(0);
  });

  it('--install-timer in a fleet: the host file includes the fragment and its merged spec has the timer', async () => {
    const fleet = path.join(t.dir, 'fleet');
    cpSync(path.join(REPO, 'examples/fleet'), fleet, { recursive: true });
    const host = path.join(fleet, 'hosts/web1.yaml');
    const before = readFileSync(host, 'utf8');
    const r = await runCli(['drift', host, '--install-timer', '--every', '1h', '--spec-at', '/etc/reconcile/web1.yaml']);
    expect(r.stderr).toBe(`reconcile drift: wrote ${path.join(fleet, 'hosts/web1.drift-timer.yaml')}; add it to ${host} (include: [./web1.drift-timer.yaml]), commit both, then reconcile apply ${host} installs the timer\n`);
    expect(readFileSync(host, 'utf8')).toBe(before);
    writeFileSync(host, before.replace('host: web1\n', 'host: web1\ninclude: [./web1.drift-timer.yaml]\n'));
    const merged = await runCli(['spec', host, '--format', 'json']);
    expect(merged.exitCode).toBe(0);
    const units = JSON.parse(merged.stdout).spec.units.map((u: { name: string }) => u.name);
    expect(units).toEqual(expect.arrayContaining(['reconcile-drift.service', 'reconcile-drift.timer']));
    const again = await runCli(['drift', host, '--install-timer', '--every', '1h', '--spec-at', '/etc/reconcile/web1.yaml']);
    expect(again.stderr).toContain(`${host} includes it: reconcile apply ${host} installs the timer`);
  });

  it('--install-timer: bad schedules and a spec in git without --spec-at are refused, saying why', async () => {
    for (const every of ['0s', 'fortnightly', '15']) {
      const r = await runCli(['drift', t.spec, '--install-timer', '--every', every]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toBe(`reconcile drift: --every must be a duration of at least 1s such as 15m or 1h, or hourly, daily or weekly, not "${every}"\n`);
    }
    execFileSync('git', ['init', '--quiet', t.dir]);
    const r = await runCli(['drift', t.spec, '--install-timer', '--every', '15m']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(`reconcile drift: ${t.spec} is in a git repository, so the fragment will run on other machines: give the spec's path there with --spec-at PATH (e.g. --spec-at /etc/reconcile/${path.basename(t.spec)})\n`);
    expect(existsSync(t.spec.replace(/\.yaml$/, '.drift-timer.yaml'))).toBe(false);
  });

  it('--every 1s: checks until SIGTERM, exits 0, and the report file is always complete', async () => {
    const report = path.join(t.dir, 'drift.json');
    const child = spawn(process.execPath, [BIN, 'drift', t.spec, '--root', t.root, '--every', '1s', '--format', 'json', '--report', report], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const seen = new Set<string>();
    let reads = 0;
    // Until two checks were written and the file was read often enough, not for a fixed time: on a
    // loaded machine the first check alone can take seconds.
    const deadline = Date.now() + 60_000;
    while ((seen.size < 2 || reads <= 50) && Date.now() < deadline) {
      if (existsSync(report)) {
        // Every read must parse: the file is replaced by rename, never written in place.
        const r = JSON.parse(readFileSync(report, 'utf8'));
        expect(r.kind).toBe('reconcile-drift');
        seen.add(r.checkedAt);
        reads++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const checks = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(checks.length).toBeGreaterThanOrEqual(2);
    expect(checks.every((c) => c.ok && c.drift.length === 4)).toBe(true);
    expect(seen.size).toBeGreaterThanOrEqual(2);
    expect(reads).toBeGreaterThan(50);
  }, 90_000);
});
