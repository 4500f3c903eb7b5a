/**
 * `reconcile review --base REF` in a temporary git repository: the risk of each spec change,
 * read from git and the working tree only.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';

const unit = (execStart: string) => `  - name: kafka.service
    content: |
      [Unit]
      Description=Kafka Server
      [Service]
      ExecStart=${execStart}
      [Install]
      WantedBy=multi-user.target
    enabled: true
    state: running
`;
const spec = (execStart: string, withMount: boolean) => `host: app1
units:
${unit(execStart)}${withMount ? `mounts:
  - {path: /mnt/140share, source: "192.168.1.140:/data/share", type: nfs, options: [nfsvers=3, nolock], state: mounted}
` : ''}`;

let dir: string;
const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' });
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'reconcile-review-'));
  mkdirSync(path.join(dir, 'hosts'));
  git('init', '-q');
  writeFileSync(path.join(dir, 'hosts/app1.yaml'), spec('/opt/kafka/bin/kafka-server-start.sh /opt/kafka/config/a.properties', true));
  writeFileSync(path.join(dir, 'README.md'), 'not a spec\n');
  git('add', '.');
  git('commit', '-qm', 'first');
  writeFileSync(path.join(dir, 'hosts/app1.yaml'), spec('/opt/kafka/bin/kafka-server-start.sh /opt/kafka/config/b.properties', false));
  git('commit', '-qam', 'change ExecStart, remove the mount');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('reconcile review', () => {
  it('reports one restart and one disruptive change since HEAD~1, exit 2', async () => {
    const r = await runCli(['review', '--base', 'HEAD~1', '--format', 'json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(2);
    const review = JSON.parse(r.stdout);
    expect(review.specs).toHaveLength(1);
    const changes = review.specs[0].changes;
    expect(changes.map((c: { address: string; risk: string; change: string }) => [c.address, c.change, c.risk])).toEqual([
      ['mounts[/mnt/140share]', 'removed', 'disruptive'],
      ['units[kafka.service]', 'changed', 'restart'],
    ]);
    expect(changes[1].reasons.join(' ')).toContain('ExecStart changed');
    expect(review.risk).toBe('disruptive');

    const text = await runCli(['review', '--base', 'HEAD~1', 'hosts/app1.yaml'], { cwd: dir });
    expect(text.exitCode).toBe(2);
    expect(text.stdout).toContain('~ units[kafka.service]  changed, risk restart');
    expect(text.stdout).toContain('- mounts[/mnt/140share]  removed, risk disruptive');
    expect(text.stdout).toContain('2 resource changes: 1 disruptive, 1 restart');
    const md = await runCli(['review', '--base', 'HEAD~1', '--format', 'markdown'], { cwd: dir });
    expect(md.stdout).toContain('| `units[kafka.service]` | changed | 🟡 restart |');
  });

  it('exits 0 when nothing risky changed, 1 for an invalid new version or a bad ref', async () => {
    expect((await runCli(['review', '--base', 'HEAD'], { cwd: dir })).exitCode).toBe(0);
    writeFileSync(path.join(dir, 'hosts/app1.yaml'), spec('/x', false).replace('units:', 'timezone: UTC\nunits:'));
    // Only the timezone changed against HEAD... plus ExecStart: commit that first.
    git('commit', '-qam', 'tz');
    writeFileSync(path.join(dir, 'hosts/app1.yaml'), spec('/x', false).replace('units:', 'timezone: Asia/Shanghai\nunits:'));
    const safe = await runCli(['review', '--base', 'HEAD', '--format', 'json'], { cwd: dir });
    expect(safe.exitCode).toBe(0);
    expect(JSON.parse(safe.stdout).specs[0].changes).toMatchObject([{ address: 'timezone', risk: 'none' }]);

    writeFileSync(path.join(dir, 'hosts/app1.yaml'), 'host: app1\nmounts: 3\n');
    const invalid = await runCli(['review', '--base', 'HEAD'], { cwd: dir });
    expect(invalid.exitCode).toBe(1);
    expect(invalid.stdout).toContain('app1.yaml:2:');

    const bad = await runCli(['review', '--base', 'nope'], { cwd: dir });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/^reconcile review: nope is not a commit/);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect((await runCli(['review'], { cwd: dir })).exitCode).toBe(1);
  });

  it('a deleted spec removes every resource', async () => {
    unlinkSync(path.join(dir, 'hosts/app1.yaml'));
    const r = await runCli(['review', '--base', 'HEAD', '--format', 'json'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(JSON.parse(r.stdout).specs[0]).toMatchObject({ status: 'removed', changes: [{ address: 'units[kafka.service]', change: 'removed', risk: 'disruptive' }] });
  });
});
