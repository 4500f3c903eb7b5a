/**
 * `plan --fleet --facts DIR`: each host of the example fleet planned in CI from the snapshot it
 * recorded (`reconcile facts --root`), touching no host, gives exactly the changes `plan
 * hosts/<h>.yaml --facts DIR/<h>.json` gives; hosts without a snapshot are listed, not errors
 * (unless --strict); --limit picks the hosts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPO, runCli } from './helpers/cli.js';
import { startCluster, type Cluster } from './helpers/pg.js';
import { describeNeeding } from './helpers/prereq.js';

const FLEET = path.join(REPO, 'examples', 'fleet');
/**
 * db2 is left without a snapshot: recording facts for a standby whose data directory is empty
 * checks its primary (db1 at 192.168.1.99), and tests send traffic only to 127.0.0.0/8. It is the
 * fleet's "missing snapshot" case.
 */
const RECORDED = ['nfs1', 'web1', 'web2', 'web3', 'db1', 'app1'];

let tmp: string;
let facts: string;
let pg: Cluster;
let env: Record<string, string>;

describeNeeding({ root: 'PostgreSQL runs as the postgres user', commands: { '/usr/lib/postgresql/15/bin/initdb': 'postgresql-15' } }, 'plan --fleet --facts on the example fleet', () => {
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'reconcile-fsrc-fleetplan-'));
    facts = path.join(tmp, 'facts');
    mkdirSync(facts);
    // app1 migrates a real database; the other secret references need only to be set.
    pg = await startCluster();
    env = { REPL_PASSWORD: 'not-used-here', APP_DB_PASSWORD: 'not-used-here', APP_DATABASE_URL: pg.url(), RECONCILE_NO_CACHE: '1' };
    for (const h of RECORDED) {
      const root = path.join(tmp, 'roots', h);
      mkdirSync(path.join(root, 'etc'), { recursive: true });
      writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
      writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n');
      const r = await runCli(['facts', `hosts/${h}.yaml`, '--root', root], { cwd: FLEET, env });
      expect(r.stderr, h).toBe('');
      expect(r.exitCode, h).toBe(0);
      writeFileSync(path.join(facts, `${h}.json`), r.stdout);
      // The snapshot is all the plan may read: the root goes.
      rmSync(root, { recursive: true, force: true });
    }
  }, 180_000);
  afterAll(() => {
    pg?.destroy();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('gives per host exactly the changes of plan hosts/<h>.yaml --facts; lists db2 as missing; exit 2', async () => {
    const r = await runCli(['plan', '--fleet', '--facts', facts, '--format', 'json'], { cwd: FLEET, env });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(2);
    const fp = JSON.parse(r.stdout);
    expect(fp.formatVersion).toBe(1);
    expect(Object.keys(fp.hosts)).toEqual(['nfs1', 'web1', 'web2', 'web3', 'db1', 'app1']);
    expect(fp.missing).toEqual([{ host: 'db2', file: path.join(facts, 'db2.json') }]);
    expect(fp.errors).toEqual([]);
    for (const h of RECORDED) {
      const one = await runCli(['plan', `hosts/${h}.yaml`, '--facts', path.join(facts, `${h}.json`), '--format', 'json'], { cwd: FLEET, env });
      expect(one.stderr, h).toBe('');
      const single = JSON.parse(one.stdout);
      expect(fp.hosts[h].changes, h).toEqual(single.changes);
      expect(fp.hosts[h].steps, h).toEqual(single.steps);
      expect(fp.hosts[h].warnings, h).toEqual(single.warnings);
      expect(fp.hosts[h].spec.sha256, h).toBe(single.spec.sha256);
      expect(fp.hosts[h].spec.sources, h).toEqual(single.spec.sources);
      expect(one.exitCode, h).toBe(single.changes.length ? 2 : 0);
      expect(fp.snapshots[h].ageSeconds, h).toBeGreaterThanOrEqual(0);
      expect(Date.parse(fp.snapshots[h].recordedAt), h).not.toBeNaN();
    }
    // Not a plan of nothing: the example hosts all have something to do on an empty root.
    const addresses = (h: string) => fp.hosts[h].changes.map((c: { address: string }) => c.address);
    expect(addresses('web2')).toEqual(['timezone', 'mounts[/mnt/share]', 'mounts[/mnt/media]']);
    expect(addresses('app1')).toEqual(['timezone', 'units[app.service]', 'migrations[app]/20240101000000_create_users', 'migrations[app]/20240102000000_add_display_name', 'migrations[app]/20240103000000_index_users_created_at']);
  });

  it('text: one section per host with the age of its snapshot, the missing host, a summary', async () => {
    const r = await runCli(['plan', '--fleet', '--facts', facts], { cwd: FLEET, env });
    expect(r.exitCode).toBe(2);
    for (const h of RECORDED) expect(r.stdout).toMatch(new RegExp(`^== ${h} \\(facts recorded \\d+[smhd]`, 'm'));
    expect(r.stdout).toContain(`warning: db2: no facts snapshot ${path.join(facts, 'db2.json')}`);
    expect(r.stdout).toMatch(/^6 hosts planned from facts: \d+ with changes/m);
    expect(r.stdout).toMatch(/^no snapshot for 1 host: db2 /m);
  });

  it('--limit picks the hosts; --strict makes a missing snapshot an error', async () => {
    const r = await runCli(['plan', '--fleet', '--facts', facts, '--limit', 'web*,!web2', '--limit', 'app1', '--format', 'json'], { cwd: FLEET, env });
    expect(r.exitCode).toBe(2);
    const fp = JSON.parse(r.stdout);
    expect(Object.keys(fp.hosts)).toEqual(['web1', 'web3', 'app1']);
    expect(fp.missing).toEqual([]);
    const strict = await runCli(['plan', '--fleet', '--facts', facts, '--limit', 'group:db', '--strict'], { cwd: FLEET, env });
    expect(strict.stderr).toBe('reconcile plan --fleet: --strict: no facts snapshot for db2\n');
    expect(strict.exitCode).toBe(1);
    const bad = await runCli(['plan', '--fleet', '--facts', facts, '--limit', 'group:dbs'], { cwd: FLEET, env });
    expect(bad.stderr).toBe('--limit: group:dbs: no group dbs in the fleet (did you mean group:db?)\n');
    expect(bad.exitCode).toBe(1);
  });

  it('a snapshot that is not one is that host\'s error, exit 1; the others are still planned', async () => {
    const dir = path.join(tmp, 'broken');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'web1.json'), '{"not": "facts"}');
    const r = await runCli(['plan', '--fleet', '--facts', dir, '--limit', 'web1', '--format', 'json'], { cwd: FLEET, env });
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(r.stdout).errors).toEqual([{ host: 'web1', error: expect.stringMatching(/web1\.json: not a facts snapshot/) }]);
  });
});
