/**
 * pg_hba.conf fields read as a real PostgreSQL 15 reads them: the same file through
 * pg_hba_file_rules (the server's own tokenizer) and through parseHba. Comma lists with blanks
 * after the comma, quoted names holding blanks, commas and '#', address plus netmask, options.
 * (Continuation lines are PostgreSQL 16's: see the fixture tests in src/resources/postgres.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { startCluster, writeAsPostgres, type Cluster } from './helpers/pg.js';
import { hbaFields, parseHba } from '../src/resources/postgres/hba.js';

let pg: Cluster;
beforeAll(async () => {
  pg = await startCluster();
});
afterAll(() => pg?.destroy());

const FILE = `local   all             all                                     peer
host    db1, db2        "alice", bob    192.168.0.0/16          md5
host    all             /^a$, bob       10.0.0.0/8              scram-sha-256
host    "my db,x#y",sales all           ::1/128                 trust # trailing
host    all             all             172.16.0.0 255.240.0.0  ident map=omicron
host    db1,,db2, "x" all               127.0.0.1/32            md5
host    db1 ,db2        10.1.0.0/16     md5
`;

interface Row {
  line: number;
  type: string;
  database: string[];
  user: string[];
  method: string;
  options: string[];
}

describe('pg_hba.conf fields as PostgreSQL 15 reads them', () => {
  it('parseHba splits every line into the fields and list items of pg_hba_file_rules', () => {
    writeAsPostgres(path.join(pg.dataDir, 'pg_hba.conf'), FILE);
    const json = pg.psql(
      "SELECT json_agg(json_build_object('line', line_number, 'type', type, 'database', database, 'user', user_name, 'method', auth_method, 'options', coalesce(options, '{}'), 'error', error) ORDER BY line_number) FROM pg_hba_file_rules",
    );
    const server = JSON.parse(json) as (Row & { error: string | null })[];
    expect(server.filter((r) => r.error)).toEqual([]);

    // PostgreSQL strips the quotes of a token; parseHba keeps them (so a rule renders back as written).
    const unquote = (t: string) => (t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t);
    const list = (field: string) => hbaFields(field)[0]!.map(unquote);
    const ours: Row[] = parseHba(FILE, { continuation: false })
      .filter((l) => l.rule)
      .map(({ line, rule: r }) => ({ line, type: r!.type, database: list(r!.database), user: list(r!.user), method: r!.method, options: r!.options.split(' ').filter(Boolean) }));
    expect(ours).toEqual(server.map(({ error: _e, ...row }) => row));
    // The cases this is about, spelled out.
    expect(ours.find((r) => r.line === 2)).toMatchObject({ database: ['db1', 'db2'], user: ['alice', 'bob'] });
    expect(ours.find((r) => r.line === 3)).toMatchObject({ user: ['/^a$', 'bob'] });
    expect(ours.find((r) => r.line === 4)).toMatchObject({ database: ['my db,x#y', 'sales'] });
    expect(ours.find((r) => r.line === 6)).toMatchObject({ database: ['db1', 'db2', 'x'] });
    expect(ours.find((r) => r.line === 7)).toMatchObject({ database: ['db1'], user: ['db2'], method: 'md5' });
  });
});
