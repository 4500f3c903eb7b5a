/**
 * With lock.redis, an apply that changes a PostgreSQL cluster takes the cluster's read-write
 * lock (by system identifier): a restart or rebuild elsewhere (a writer) holds it off.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';
import { describeNeeding } from './helpers/prereq.js';
import { startCluster, PG_BIN, type Cluster } from './helpers/pg.js';
import { startRedis, type RedisServer } from './helpers/redis.js';
import { createRedisRwLock } from '../src/locks/rwlock.js';

describeNeeding({ root: 'PostgreSQL clusters run as the postgres user' }, 'the cluster lock', () => {
  let pg: Cluster;
  let redis: RedisServer;
  const t = tempRoot();
  beforeAll(async () => {
    [pg, redis] = await Promise.all([startCluster(), startRedis()]);
  });
  afterAll(async () => {
    pg?.destroy();
    await redis?.stop();
    t.cleanup();
  });

  it('waits for a writer on the cluster, names it, then applies', async () => {
    const spec = path.join(t.dir, 'db.yaml');
    writeFileSync(
      spec,
      `host: db1\nlock: {redis: {env: TEST_REDIS_URL}, wait: 1s}\npostgres:\n  instance: {dataDir: ${pg.dataDir}, port: ${pg.port}, bin: ${PG_BIN}, socketDir: ${pg.socketDir}, control: pg_ctl}\n  role: primary\n  settings: {work_mem: 8MB}\n`,
    );
    const env = { TEST_REDIS_URL: redis.url };
    const plan = JSON.parse((await runCli(['plan', spec, '--root', t.root, '--format', 'json'], { env })).stdout);
    const sysid = pg.psql('SELECT system_identifier FROM pg_control_system()');
    expect(plan.locks).toEqual([{ name: `pg:${sysid}`, mode: 'read' }]);

    const writer = await createRedisRwLock(redis.url, { ttlMs: 10_000, name: `pg:${sysid}` }).acquireWrite({ waitMs: 0, holder: { host: 'db2', pid: 4242, plan: 'rebuild', since: new Date().toISOString() } });
    try {
      const refused = await runCli(['apply', spec, '--root', t.root, '--yes'], { env });
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toMatch(/db2 \(pid 4242/);
      expect(pg.psql('SHOW work_mem')).toBe('4MB');
    } finally {
      await writer.release();
    }
    const ok = await runCli(['apply', spec, '--root', t.root, '--yes'], { env });
    expect(ok.stderr).toBe('');
    expect(ok.exitCode).toBe(0);
    expect(pg.psql('SHOW work_mem')).toBe('8MB');
  });
});
