/**
 * pg_hba.conf rules with the values hbaFieldProblem accepts (quoted names with blanks and '#',
 * comma lists, +group, an address with a netmask, quoted auth options) are read by a real
 * PostgreSQL 15 without an error, as the same fields.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { applyRules, hbaFieldProblem, parseHba, renderHba, type HbaRule } from '../src/resources/postgres/hba.js';
import { PG_BIN, startCluster, writeAsPostgres, type Cluster } from './helpers/pg.js';
import { describeNeeding } from './helpers/prereq.js';


const RULES: HbaRule[] = [
  { type: 'host', database: '"my db"', user: '"o\'brien #1"', address: '10.1.0.0/16', method: 'scram-sha-256', options: '' },
  { type: 'host', database: 'app,"other db"', user: '+admins', address: '10.2.0.1 255.255.255.255', method: 'md5', options: '' },
  { type: 'host', database: 'all', user: 'all', address: '10.3.0.0/16', method: 'ldap', options: 'ldapserver=ldap.example.com ldapprefix="cn=" ldapsuffix=", dc=example #1, dc=com"' },
  { type: 'local', database: 'replication', user: '-dash', method: 'peer', options: '' },
];

describeNeeding({ root: 'PostgreSQL clusters run as the postgres user', commands: { [`${PG_BIN}/initdb`]: 'postgresql-15' } }, 'pg_hba.conf values against a real PostgreSQL', () => {
  let pg: Cluster;
  beforeAll(async () => {
    pg = await startCluster();
  }, 120_000);
  afterAll(() => pg?.destroy());

  it('each accepted value loads without an error and reads back as written', () => {
    for (const r of RULES) for (const f of ['database', 'user', 'address', 'options'] as const) if (r[f] !== undefined) expect(hbaFieldProblem(f, r[f]!), `${f} ${r[f]}`).toBeNull();
    const file = path.join(pg.dataDir, 'pg_hba.conf');
    const before = readFileSync(file, 'utf8');
    const text = renderHba(applyRules(parseHba(before), RULES));
    writeAsPostgres(file, text);
    pg.psql('SELECT pg_reload_conf()');
    const errors = pg.psql("SELECT coalesce(string_agg(line_number || ': ' || error, '; '), '') FROM pg_hba_file_rules WHERE error IS NOT NULL");
    expect(errors).toBe('');
    const rows = pg.psql("SELECT database::text || '|' || user_name::text || '|' || coalesce(address, '') || '|' || coalesce(netmask, '') || '|' || auth_method FROM pg_hba_file_rules ORDER BY line_number LIMIT 4");
    expect(rows.split('\n')).toEqual([
      '{"my db"}|{"o\'brien #1"}|10.1.0.0|255.255.0.0|scram-sha-256',
      '{app,"other db"}|{+admins}|10.2.0.1|255.255.255.255|md5',
      '{all}|{all}|10.3.0.0|255.255.0.0|ldap',
      '{replication}|{-dash}|||peer',
    ]);
    // Our parser reads the file back as the same rules (so the next plan is in sync).
    const back = parseHba(text).filter((l) => l.rule).slice(0, 4).map((l) => l.rule!);
    expect(back.map((r) => [r.database, r.user, [r.address, r.mask].filter(Boolean).join(' ') || undefined, r.options])).toEqual(RULES.map((r) => [r.database, r.user, r.address, r.options]));
  });

  it('a refused value would be read by PostgreSQL as another rule (why it is refused)', () => {
    const hostile: HbaRule = { type: 'host', database: 'replication', user: 'repl all', address: '10.9.0.0/16', method: 'reject', options: '' };
    expect(hbaFieldProblem('user', hostile.user)).toMatch(/^is more than one field/);
    const file = path.join(pg.dataDir, 'pg_hba.conf');
    writeAsPostgres(file, renderHba(applyRules(parseHba(readFileSync(file, 'utf8')), [hostile])));
    pg.psql('SELECT pg_reload_conf()');
    // "repl all" is read as user repl, address all, method "10.9.0.0/16": the line is an error.
    expect(pg.psql("SELECT coalesce(string_agg(error, '; '), '') FROM pg_hba_file_rules WHERE error IS NOT NULL")).toMatch(/invalid authentication method "10\.9\.0\.0\/16"/);
  });
});
