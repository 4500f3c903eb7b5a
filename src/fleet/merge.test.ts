/**
 * The merge on a generated fleet of 50 hosts with groups and fragments: every host's merged spec
 * equals the spec written out by hand for it (both generated here, the expected one by explicit
 * rules, not by the merge), and every merged spec passes the spec checker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openFleet, validateFleet } from './index.js';
import { mergeHost } from './merge.js';

const N = 50;
let dir: string;

const name = (i: number) => (i === 0 ? 'nfs1' : `h${String(i).padStart(2, '0')}`);
const addr = (i: number) => `10.0.${Math.floor(i / 200)}.${(i % 200) + 1}`;
const isWeb = (i: number) => i > 0 && i % 2 === 1;
const isDb = (i: number) => i > 0 && i % 2 === 0;
const isMedia = (i: number) => i > 0 && i % 5 === 0;
const webHosts = () => Array.from({ length: N }, (_, i) => i).filter(isWeb);

const NGINX = '[Unit]\nDescription=nginx\n[Service]\nExecStart=/usr/sbin/nginx\n[Install]\nWantedBy=multi-user.target\n';
const OPTS = ['nfsvers=3', 'nolock', 'hard'];

function write(rel: string, text: string): void {
  mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  writeFileSync(path.join(dir, rel), text);
}

function generateFleet(): void {
  const hosts = Array.from({ length: N }, (_, i) => {
    const groups = [...(i === 0 ? ['nfs'] : []), ...(isWeb(i) ? ['web'] : []), ...(isDb(i) ? ['db'] : []), ...(isMedia(i) ? ['media'] : [])];
    return `  ${name(i)}: {address: ${addr(i)}/16, groups: [${groups.join(', ')}]}`;
  });
  write('fleet.yaml', `name: gen\nhosts:\n${hosts.join('\n')}\ngroups:\n  nfs: {include: [roles/base.yaml]}\n  web: {include: [roles/web.yaml]}\n  db: {include: [roles/db.yaml]}\n  media: {include: [roles/media.yaml]}\n`);
  write('roles/base.yaml', 'timezone: Etc/UTC\nunits:\n  - {name: snapd.service, enabled: false, state: stopped}\nwatchdog: {stepTimeout: 2m}\n');
  write('roles/site-defaults.yaml', 'defaults: true\ntimezone: Europe/Berlin\nlock: {ttl: 10s}\n');
  write(
    'roles/web.yaml',
    `include: [./base.yaml]\nx-opts: &opts [${OPTS.join(', ')}]\nunits:\n  - name: nginx.service\n    content: ${JSON.stringify(NGINX)}\n    dropins: {10-a.conf: "[Service]\\nLimitNOFILE=4096\\n", 20-b.conf: "[Service]\\nNice=5\\n"}\n    enabled: true\n    state: running\nmounts:\n  - {path: /mnt/share, source: {fleet: nfs1, path: /data/share}, type: nfs, options: *opts, state: mounted}\n`,
  );
  write('roles/media.yaml', 'mounts:\n  - {path: /mnt/media, source: {fleet: nfs1, path: /data/media}, type: nfs, options: [ro, nfsvers=4.2]}\n');
  write(
    'roles/db.yaml',
    'include: [roles/base.yaml]\npostgres:\n  instance: {version: 15, cluster: main}\n  role: primary\n  settings: {max_connections: 100, work_mem: 4MB}\n  hba:\n    - {type: local, database: all, user: postgres, method: peer}\n    - {type: host, database: all, user: all, address: {fleet: group:web}, method: scram-sha-256, order: 2000}\n  slots: [s1]\nmigrations:\n  - {name: app, database: {env: APP_DB}, dir: ../migrations/app}\n',
  );
  write('migrations/app/20240101000000_init.sql', '-- migrate:up\nCREATE TABLE t (id int);\n-- migrate:down\nDROP TABLE t;\n');
  for (let i = 0; i < N; i++) {
    const lines = [`host: ${name(i)}`];
    const includes = i % 7 === 0 && i > 0 ? ['roles/site-defaults.yaml'] : [];
    if (includes.length) lines.push(`include: [${includes.join(', ')}]`);
    const excludes = [...(i % 6 === 3 ? ['units[snapd.service]'] : []), ...(isWeb(i) && i % 10 === 9 ? ['units[nginx.service].dropins[10-a.conf]'] : [])];
    if (excludes.length) lines.push(`exclude: [${excludes.map((x) => JSON.stringify(x)).join(', ')}]`);
    if (i === 0) lines.push('exports:\n  - path: /data/share\n    clients:\n      - {host: {fleet: group:web}, options: [rw, sync, no_subtree_check]}\n  - path: /data/media\n    clients:\n      - {host: {fleet: group:media}, options: [ro, sync, no_subtree_check]}');
    if (isWeb(i) && i % 4 === 1) lines.push('units:\n  - {name: nginx.service, state: stopped}');
    if (isWeb(i) && i % 8 === 7) lines.push('mounts:\n  - {path: /mnt/share, source: "10.9.0.1:/other", type: nfs, replace: true}');
    if (isDb(i)) {
      lines.push('postgres:\n  hba:\n    - {type: host, database: replication, user: repl, address: 10.9.9.9/32, method: scram-sha-256}');
      if (i % 4 === 2) lines.push('  settings: {work_mem: 64MB}');
    }
    write(`hosts/${name(i)}.yaml`, `${lines.join('\n')}\n`);
  }
}

/** What each host's spec says once written out in full, by hand, without fragments. */
function expected(i: number): Record<string, unknown> {
  const spec: Record<string, unknown> = { host: name(i), timezone: 'Etc/UTC' };
  const units: Record<string, unknown>[] = [];
  if (i % 6 !== 3) units.push({ name: 'snapd.service', enabled: false, state: 'stopped' });
  const mounts: Record<string, unknown>[] = [];
  if (i === 0) {
    const media = Array.from({ length: N }, (_, j) => j).filter(isMedia);
    spec.exports = [
      {
        path: '/data/share',
        // A reference expands in place to its hosts' addresses, sorted.
        clients: webHosts().map((j) => ({ host: addr(j), options: ['rw', 'sync', 'no_subtree_check'] })),
      },
      { path: '/data/media', clients: media.map((j) => ({ host: addr(j), options: ['ro', 'sync', 'no_subtree_check'] })) },
    ];
  }
  if (isWeb(i)) {
    const dropins: Record<string, string> = { '10-a.conf': '[Service]\nLimitNOFILE=4096\n', '20-b.conf': '[Service]\nNice=5\n' };
    if (i % 10 === 9) delete dropins['10-a.conf'];
    units.push({ name: 'nginx.service', content: NGINX, dropins, enabled: true, state: i % 4 === 1 ? 'stopped' : 'running' });
    mounts.push(i % 8 === 7 ? { path: '/mnt/share', source: '10.9.0.1:/other', type: 'nfs' } : { path: '/mnt/share', source: '10.0.0.1:/data/share', type: 'nfs', options: OPTS, state: 'mounted' });
  }
  if (isMedia(i)) mounts.push({ path: '/mnt/media', source: '10.0.0.1:/data/media', type: 'nfs', options: ['ro', 'nfsvers=4.2'] });
  if (isDb(i)) {
    spec.postgres = {
      instance: { version: 15, cluster: 'main' },
      role: 'primary',
      settings: { max_connections: 100, work_mem: i % 4 === 2 ? '64MB' : '4MB' },
      hba: [
        { type: 'host', database: 'replication', user: 'repl', address: '10.9.9.9/32', method: 'scram-sha-256' },
        { type: 'local', database: 'all', user: 'postgres', method: 'peer' },
        ...webHosts().map((j) => ({ type: 'host', database: 'all', user: 'all', address: `${addr(j)}/32`, method: 'scram-sha-256' })),
      ],
      slots: ['s1'],
    };
    spec.migrations = [{ name: 'app', database: { env: 'APP_DB' }, dir: '../migrations/app' }];
  }
  if (mounts.length) spec.mounts = mounts;
  if (units.length) spec.units = units;
  spec.watchdog = { stepTimeout: '2m' };
  if (i % 7 === 0 && i > 0) spec.lock = { ttl: '10s' };
  return spec;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'reconcile-fleet-'));
  generateFleet();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a generated fleet of 50 hosts', () => {
  it('merges every host to the spec written out by hand', () => {
    const { fleet, diagnostics, ctx } = openFleet(dir);
    expect(diagnostics).toEqual([]);
    expect(fleet.hosts.size).toBe(N);
    for (let i = 0; i < N; i++) {
      const m = mergeHost(path.join(dir, 'hosts', `${name(i)}.yaml`), ctx, fleet.hosts.get(name(i)));
      expect(m.diagnostics, name(i)).toEqual([]);
      expect(m.value, name(i)).toEqual(expected(i));
    }
  });

  it('passes the spec checker, host by host, and the checks between hosts', () => {
    const r = validateFleet(dir);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.merged.size).toBe(N);
  });

  it('records where each merged value came from', () => {
    const { fleet, ctx } = openFleet(dir);
    const m = mergeHost(path.join(dir, 'hosts', 'h05.yaml'), ctx, fleet.hosts.get('h05'));
    const at = (k: string) => {
      const o = m.addressOrigins.get(k);
      return o && `${path.relative(dir, o.said.file.abs)}${o.overrides ? ` over ${path.relative(dir, o.overrides.file.abs)}` : ''}`;
    };
    expect(at('units[nginx.service]')).toBe('roles/web.yaml');
    expect(at('units[nginx.service].state')).toBe('hosts/h05.yaml over roles/web.yaml');
    expect(at('units[nginx.service].dropins.10-a.conf')).toBe('roles/web.yaml');
    expect(at('mounts[/mnt/media]')).toBe('roles/media.yaml');
    expect(at('timezone')).toBe('roles/base.yaml');
  });
});
