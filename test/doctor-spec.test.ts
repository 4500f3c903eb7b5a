/**
 * `reconcile doctor --spec`: the time zone against the spec's, and the PostgreSQL role of a real
 * cluster against the spec's role.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';
import { describeNeeding } from './helpers/prereq.js';
import { startCluster, PG_BIN, type Cluster } from './helpers/pg.js';

describeNeeding({ root: 'PostgreSQL clusters run as the postgres user' }, 'doctor --spec', () => {
  let pg: Cluster;
  const t = tempRoot();
  beforeAll(async () => {
    pg = await startCluster();
  });
  afterAll(() => {
    pg?.destroy();
    t.cleanup();
  });

  it('reports the cluster as primary, and a time zone that differs from the spec', async () => {
    const spec = path.join(t.dir, 'db.yaml');
    writeFileSync(
      spec,
      `host: db1\ntimezone: Asia/Shanghai\npostgres:\n  instance: {dataDir: ${pg.dataDir}, port: ${pg.port}, bin: ${PG_BIN}, socketDir: ${pg.socketDir}, control: pg_ctl}\n  role: standby\n  primary: {host: 127.0.0.1, port: 1, user: repl, password: {env: NOT_NEEDED_HERE}}\n`,
    );
    const r = await runCli(['doctor', '--root', t.root, '--spec', spec, '--format', 'json', '--interval', '100ms']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(2);
    const report = JSON.parse(r.stdout);
    expect(report.replication).toMatchObject({ status: 'primary', want: 'standby', degraded: true });
    expect(report.time).toEqual({ want: 'Asia/Shanghai', have: 'Etc/UTC' });
    const areas = report.findings.map((f: { area: string; severity: string }) => `${f.severity} ${f.area}`);
    expect(areas).toContain('crit replication');
    expect(areas).toContain('warn time');
  });
});
