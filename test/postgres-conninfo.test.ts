/**
 * Connection strings to another server are quoted as libpq requires: a user name with a blank, a
 * quote and a backslash reaches a real PostgreSQL 15 as that user, not as a second parameter.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Host } from '../src/host/host.js';
import { psqlRemote, type Instance } from '../src/resources/postgres/instance.js';
import { PG_BIN, startCluster, type Cluster } from './helpers/pg.js';
import { describeNeeding } from './helpers/prereq.js';


describeNeeding({ root: 'PostgreSQL clusters run as the postgres user', commands: { [`${PG_BIN}/initdb`]: 'postgresql-15' } }, 'conninfo quoting against a real PostgreSQL', () => {
  let pg: Cluster;
  const user = "repl o'brien \\x";
  const password = "p w'\\d";
  beforeAll(async () => {
    pg = await startCluster();
    pg.psql(`CREATE ROLE "${user}" LOGIN PASSWORD '${password.replace(/'/g, "''")}'`);
  }, 120_000);
  afterAll(() => pg?.destroy());

  it('psqlRemote connects as a user whose name has a blank, a quote and a backslash', async () => {
    const inst = { bin: pg.bin } as Instance;
    const r = await psqlRemote(new Host('/'), inst, { host: '127.0.0.1', port: pg.port, user }, password, 'SELECT current_user');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(user);
  });
});
