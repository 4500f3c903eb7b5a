/**
 * `reconcile review --base REF` inside a fleet (DESIGN §8.3), run as a user runs it in real git
 * repositories in temp dirs: the hosts a change reaches and why, unsafe transitions, findings new
 * at head (they block) against old ones (counted), migration files, and the aggregated Markdown at
 * a fleet of thousands of hosts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';
import { schemaProblems } from './helpers/schema.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A git repository holding `files`, committed once. */
function repo(files: Record<string, string>): { dir: string; write: (f: Record<string, string>) => void; commit: (msg: string) => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-review-fleet-'));
  dirs.push(dir);
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' });
  const write = (f: Record<string, string>) => {
    for (const [p, text] of Object.entries(f)) {
      mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
      writeFileSync(path.join(dir, p), text);
    }
  };
  git('init', '-q');
  write(files);
  const commit = (msg: string) => {
    git('add', '-A');
    git('commit', '-qm', msg);
  };
  commit('first');
  return { dir, write, commit };
}

interface Affected {
  host: string;
  status: string;
  reasons: { path: string; detail: string }[];
  changes: { address: string; risk: string }[];
}

/** A fragment with one service whose ExecStart differs between the commits. */
const unit = (execStart: string) => `units:\n  - {name: app.service, enabled: true, state: running, content: "[Service]\\nExecStart=${execStart}\\n[Install]\\nWantedBy=multi-user.target\\n"}\n`;

describe('review across a fleet', () => {
  it('one fragment edited at 2,100 hosts: exactly the 2,000 that include it, Markdown aggregated under 65,536 characters', async () => {
    const hosts: string[] = [];
    const files: Record<string, string> = {};
    for (let i = 0; i < 2100; i++) {
      const name = i < 2000 ? `web${i}` : `api${i}`;
      hosts.push(`  ${name}: {address: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}, groups: [${i < 2000 ? 'web' : 'api'}]}`);
      files[`hosts/${name}.yaml`] = `host: ${name}\n`;
    }
    files['fleet.yaml'] = `name: big\nhosts:\n${hosts.join('\n')}\ngroups:\n  web: {include: [roles/web.yaml], rollout: {maxParallel: 50}}\n  api: {include: [roles/api.yaml]}\n`;
    files['roles/web.yaml'] = unit('/usr/bin/app --port 80');
    files['roles/api.yaml'] = 'timezone: Etc/UTC\n';
    const r = repo(files);
    r.write({ 'roles/web.yaml': unit('/usr/bin/app --port 8080') });
    r.commit('web: another port');

    const json = await runCli(['review', '--base', 'HEAD~1', '--format', 'json'], { cwd: r.dir, timeoutMs: 120_000 });
    expect(json.stderr).toBe('');
    expect(json.exitCode).toBe(2);
    expect(schemaProblems('review.schema.json', json.stdout)).toEqual([]);
    const review = JSON.parse(json.stdout);
    expect(review.formatVersion).toBe(1);
    expect(review.kind).toBe('fleet');
    const affected = review.affected as Affected[];
    expect(affected.map((a) => a.host).sort()).toEqual(hosts.slice(0, 2000).map((h) => h.trim().split(':')[0]).sort());
    expect(affected.every((a) => a.reasons.length === 1 && a.reasons[0]!.path === 'file' && a.reasons[0]!.detail === 'includes roles/web.yaml (changed)')).toBe(true);
    expect(affected.every((a) => a.changes.length === 1 && a.changes[0]!.address === 'units[app.service]' && a.changes[0]!.risk === 'restart')).toBe(true);
    expect(review.rollout).toEqual([{ group: 'web', maxParallel: 50, hosts: 2000, waves: 40 }]);

    const md = await runCli(['review', '--base', 'HEAD~1', '--format', 'markdown'], { cwd: r.dir, timeoutMs: 120_000 });
    expect(md.exitCode).toBe(2);
    expect(md.stdout.length).toBeLessThan(65_536);
    expect(md.stdout).toContain('| `units[app.service]` | changed | 🟡 restart | all 2,000 hosts of group web | ExecStart changed');
    expect(md.stdout).toContain('maxParallel 50 → about 40 waves');
    expect(md.stdout).toContain('**2,000 of 2,100 hosts affected');
    expect(md.stdout).toContain('file: includes roles/web.yaml (changed): 2,000 hosts (web0, web1,');
  }, 400_000);

  const small = (media: string) => ({
    'fleet.yaml': `hosts:
  nfs1: {address: 10.0.0.1/24}
  web1: {address: 10.0.0.11/24, groups: [${media}]}
  web2: {address: 10.0.0.12/24, groups: [${media}]}
  web3: {address: 10.0.0.13/24, groups: [other]}
groups:
  media: {include: [roles/media.yaml]}
  other: {}
`,
    'hosts/nfs1.yaml': `host: nfs1
exports:
  - path: /data/share
    clients:
      - {host: {fleet: group:media}, options: [rw, sync, no_subtree_check]}
`,
    'roles/media.yaml': 'mounts:\n  - {path: /mnt/share, source: {fleet: nfs1, path: /data/share}, type: nfs, options: [rw, nfsvers=3], state: mounted}\n',
    'hosts/web1.yaml': 'host: web1\n',
    'hosts/web2.yaml': 'host: web2\n',
    'hosts/web3.yaml': 'host: web3\n',
  });

  it('a host added to a group: the hosts whose {fleet: group:…} references now expand differently, and the host itself', async () => {
    const r = repo(small('media'));
    r.write({ 'fleet.yaml': small('media')['fleet.yaml'].replace('web3: {address: 10.0.0.13/24, groups: [other]}', 'web3: {address: 10.0.0.13/24, groups: [other, media]}') });
    const out = await runCli(['review', '--base', 'HEAD', '--format', 'json'], { cwd: r.dir });
    expect(out.stderr).toBe('');
    const review = JSON.parse(out.stdout);
    const by = new Map((review.affected as Affected[]).map((a) => [a.host, a]));
    expect([...by.keys()]).toEqual(['nfs1', 'web3']);
    expect(by.get('nfs1')!.reasons).toEqual([{ path: 'reference', detail: '{fleet: group:media} expands differently: +10.0.0.13' }]);
    expect(by.get('nfs1')!.changes).toMatchObject([{ address: 'exports[/data/share]', risk: 'reload' }]);
    expect(by.get('web3')!.reasons).toEqual([{ path: 'inventory', detail: 'its entry changed: groups' }]);
    expect(by.get('web3')!.changes.map((c) => c.address)).toEqual(['mounts[/mnt/share]']);
    expect(review.unsafe).toEqual([]);
    expect(review.findings.new).toEqual([]);
    const text = await runCli(['review', '--base', 'HEAD'], { cwd: r.dir });
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain('2 of 4 hosts affected · 1 file changed · worst risk reload');
    expect(text.stdout).toContain('mounts[/mnt/share] added → none on web3: new mount, mounted');
    expect(text.stdout).toContain('reference: {fleet: group:media} expands differently: +10.0.0.13: 1 host (nfs1)');
    // --limit: every host is still merged and checked; only the selected ones are reported.
    const limited = await runCli(['review', '--base', 'HEAD', '--format', 'json', '--limit', 'group:other,!web1'], { cwd: r.dir });
    expect(limited.exitCode).toBe(0);
    expect(JSON.parse(limited.stdout).affected.map((a: Affected) => a.host)).toEqual(['web3']);
    const bad = await runCli(['review', '--base', 'HEAD', '--limit', 'group:medai'], { cwd: r.dir });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toBe('--limit: group:medai: no group medai in the fleet (did you mean group:media?)\n');
    expect(bad.stderr).not.toMatch(/^\s+at /m);
  });

  it('an export client removed while a host mounts through it is unsafe (exit 2); still mounted at head, it is also a new error (exit 1)', async () => {
    const r = repo(small('media'));
    // web1 leaves the group: nfs1 no longer exports to it, and web1 drops the mount in the same change.
    r.write({ 'fleet.yaml': small('media')['fleet.yaml'].replace('web1: {address: 10.0.0.11/24, groups: [media]}', 'web1: {address: 10.0.0.11/24, groups: [other]}') });
    const out = await runCli(['review', '--base', 'HEAD', '--format', 'json'], { cwd: r.dir });
    expect(out.stderr).toBe('');
    expect(out.exitCode).toBe(2);
    expect(schemaProblems('review.schema.json', out.stdout)).toEqual([]);
    const review = JSON.parse(out.stdout);
    expect(review.unsafe).toEqual([
      {
        server: 'nfs1',
        what: 'export client',
        address: 'exports[/data/share].clients[10.0.0.11]',
        by: 'web1',
        through: 'mounts[/mnt/share]',
        stillUsed: false,
        message: 'nfs1 removes export client exports[/data/share].clients[10.0.0.11], which web1 uses (mounts[/mnt/share]) at base; web1 stops using it in this change too: apply web1 before nfs1 (or split the change into two commits)',
      },
    ]);
    expect(review.findings.new).toEqual([]);
    const md = await runCli(['review', '--base', 'HEAD', '--format', 'markdown'], { cwd: r.dir });
    expect(md.stdout).toContain('#### Unsafe transitions');

    // The export stops naming the group; web1 and web2 still mount it.
    r.write({ 'fleet.yaml': small('media')['fleet.yaml'], 'hosts/nfs1.yaml': 'host: nfs1\nexports:\n  - path: /data/share\n    clients:\n      - {host: 10.0.0.12, options: [rw, sync, no_subtree_check]}\n' });
    const broken = await runCli(['review', '--base', 'HEAD', '--format', 'json'], { cwd: r.dir });
    expect(broken.exitCode).toBe(1);
    const b = JSON.parse(broken.stdout);
    expect(b.unsafe).toMatchObject([{ by: 'web1', address: 'exports[/data/share].clients[10.0.0.11]', stillUsed: true }]);
    expect(b.findings.new).toMatchObject([{ severity: 'error', hosts: ['nfs1', 'web1'] }]);
    expect(b.findings.new[0].message).toContain("nfs1's export /data/share");
    expect(broken.stderr).toMatch(/^reconcile review: 1 new error finding since HEAD:\nroles\/media\.yaml:2:\d+: mounts\[\/mnt\/share\]: nfs1's export \/data\/share \(hosts\/nfs1\.yaml:\d+:\d+\) admits no client entry for web1/);
  });

  it('a new error between hosts at head blocks (exit 1); an error already at the base is only counted', async () => {
    const files = small('media');
    // At the base already: web2 mounts read-write what nfs1 exports read-only to it.
    files['hosts/nfs1.yaml'] = 'host: nfs1\nexports:\n  - path: /data/share\n    clients:\n      - {host: 10.0.0.11, options: [rw, sync, no_subtree_check]}\n      - {host: 10.0.0.12, options: [ro, sync, no_subtree_check]}\n';
    const r = repo(files);
    r.write({ 'hosts/web3.yaml': 'host: web3\ntimezone: Etc/UTC\n' });
    const same = await runCli(['review', '--base', 'HEAD', '--format', 'json'], { cwd: r.dir });
    expect(same.exitCode).toBe(0);
    expect(JSON.parse(same.stdout).findings).toEqual({ new: [], resolved: [], old: 1 });
    r.commit('web3: a timezone');

    // Lines moved above the old finding do not make it new; web1 losing rw does.
    r.write({ 'hosts/nfs1.yaml': `# moved\n\n${files['hosts/nfs1.yaml']!.replace('{host: 10.0.0.11, options: [rw,', '{host: 10.0.0.11, options: [ro,')}` });
    const worse = await runCli(['review', '--base', 'HEAD', '--format', 'json'], { cwd: r.dir });
    expect(worse.exitCode).toBe(1);
    const w = JSON.parse(worse.stdout);
    expect(w.findings.old).toBe(1);
    expect(w.findings.new).toHaveLength(1);
    expect(w.findings.new[0]).toMatchObject({ severity: 'error', hosts: ['nfs1', 'web1'] });
    expect(w.findings.new[0].message).toContain('mounts read-write, but nfs1 exports /data/share read-only to 10.0.0.11');
    expect(w.affected.map((a: Affected) => a.host)).toEqual(['nfs1', 'web1']);
    expect(w.affected.find((a: Affected) => a.host === 'web1').reasons).toEqual([{ path: 'findings', detail: expect.stringMatching(/^new error: mounts\[\/mnt\/share\]: mounts read-write/) }]);
    const md = await runCli(['review', '--base', 'HEAD', '--format', 'markdown'], { cwd: r.dir });
    expect(md.stdout).toContain('New (1 error blocks the change):');
    expect(md.stdout).toContain('1 finding at both commits');
  });

  it('migration files: a new one is listed with its risk, a released one edited is a new error', async () => {
    const sql = (table: string) => `-- migrate:up\nCREATE TABLE ${table} (id bigint);\n-- migrate:down\nDROP TABLE ${table};\n`;
    const r = repo({
      'fleet.yaml': 'hosts:\n  db1: {address: 10.0.0.1}\n  app1: {address: 10.0.0.2}\n  web1: {address: 10.0.0.3}\n',
      'hosts/db1.yaml': 'host: db1\npostgres:\n  instance: {version: 15, cluster: main}\n  role: primary\n',
      'hosts/app1.yaml': 'host: app1\nmigrations:\n  - {name: app, database: {env: APP_URL}, dir: ../migrations/app, server: db1, dbname: app}\n',
      'hosts/web1.yaml': 'host: web1\n',
      'migrations/app/001_users.sql': sql('users'),
    });
    r.write({ 'migrations/app/002_orders.sql': sql('orders') });
    const added = await runCli(['review', '--base', 'HEAD', '--format', 'json'], { cwd: r.dir });
    expect(added.stderr).toBe('');
    expect(added.exitCode).toBe(0);
    expect(schemaProblems('review.schema.json', added.stdout)).toEqual([]);
    const a = JSON.parse(added.stdout);
    expect(a.migrations).toEqual([{ hosts: ['app1'], entry: 'app', file: 'migrations/app/002_orders.sql', version: '002', status: 'added', released: false, risk: 'none', reasons: ['target 001 -> 002: upgrade', 'runs at the next apply of the migrating host'] }]);
    expect(a.affected).toMatchObject([{ host: 'app1', reasons: [{ path: 'migrations', detail: 'migrations/app/002_orders.sql (added)' }], changes: [] }]);

    r.write({ 'migrations/app/001_users.sql': sql('users').replace('id bigint', 'id bigint, name text') });
    const edited = await runCli(['review', '--base', 'HEAD', '--format', 'markdown'], { cwd: r.dir });
    expect(edited.exitCode).toBe(1);
    expect(edited.stdout).toContain('| `migrations/app/001_users.sql` | changed (released) |');
    expect(edited.stderr).toContain('migrations/app/001_users.sql:1:1: migrations[app]: 001_users.sql existed at HEAD and its up section changed');
  });

  it('the example fleet: a review with nothing changed is empty and exits 0', async () => {
    const src = path.join(import.meta.dirname, '..', 'examples');
    const files: Record<string, string> = {};
    const walk = (d: string, rel: string) => {
      for (const e of execFileSync('ls', ['-A', d], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
        const p = path.join(d, e);
        try {
          files[path.join(rel, e)] = readFileSync(p, 'utf8');
        } catch {
          walk(p, path.join(rel, e));
        }
      }
    };
    walk(path.join(src, 'fleet'), 'examples/fleet');
    walk(path.join(src, 'migrations'), 'examples/migrations');
    const r = repo(files);
    const out = await runCli(['review', '--base', 'HEAD'], { cwd: path.join(r.dir, 'examples/fleet') });
    expect(out.stderr).toBe('');
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain('0 of 7 hosts affected');
  });
});
