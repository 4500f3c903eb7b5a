/** Pure parts of the postgres kind: SCRAM, pg_hba.conf, conninfo, setting values. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { makeVerifier, matchesStored, parseVerifier, verifyPassword } from './scram.js';
import { applyRules, parseHba, renderHba, renderRule, ruleKey } from './hba.js';
import { parseConninfo, redactConninfo, renderConninfo } from './conninfo.js';
import { mergeAutoConf, normalizeValue, sameValue, settingsForVersion } from './settings.js';
import { parseBatch, parseVersionOutput, sha256 } from './observe.js';
import { applicationNameOf } from './diff.js';

// Made by PostgreSQL 15.18: CREATE ROLE t1 PASSWORD 'correct horse battery'; CREATE ROLE t2 PASSWORD 'pässwörd ﬁx'.
const REAL_T1 = 'SCRAM-SHA-256$4096:WMss3BcqyQVUduonIQzKNQ==$sTn/39DdePBeYcfqGr7egAho87DKWuNkEcfQwYm6H9U=:KJHBYVTqBMcac3i0sfnCf6D0xXsV+9EV2Mrj0txgWPc=';
const REAL_T2 = 'SCRAM-SHA-256$4096:pi/Y79t3eGZ26cJLKYKhAQ==$WwyJA/L9GN4Hjw/AnNt20Q29aTLWI4f8neHKWpv7NJ4=:aVLzTkvK7Cp8iaNyFhap+vB0+yylllAHnEe8SNthPzI=';

describe('SCRAM-SHA-256 verifiers', () => {
  it('verifies a password against a verifier made by a real server', () => {
    expect(verifyPassword('correct horse battery', REAL_T1)).toBe(true);
    expect(verifyPassword('correct horse batterY', REAL_T1)).toBe(false);
    expect(verifyPassword('', REAL_T1)).toBe(false);
  });
  it('applies SASLprep normalisation like the server (non-ASCII, a ligature)', () => {
    expect(verifyPassword('pässwörd ﬁx', REAL_T2)).toBe(true);
    expect(verifyPassword('passwoerd fix', REAL_T2)).toBe(false);
  });
  it('treats md5, plaintext-less and malformed values as not matching', () => {
    expect(verifyPassword('x', null)).toBe(false);
    expect(verifyPassword('x', 'md5a3556571e93b0d20722ba62be61e8c2d')).toBe(false);
    expect(parseVerifier('SCRAM-SHA-256$x:y$z')).toBeNull();
  });
  it('checks a password from the salt, iterations and sha256 observation reads (captured from PostgreSQL 15)', () => {
    const stored = { iterations: 4096, salt: 'y0y/mUAb5kEU/oPiG3lsvA==', sha256: '73253b2ed60a24c972f45e207e3472c25ef7942be41de95e98268d66927be494' };
    expect(matchesStored('correct horse battery', stored)).toBe(true);
    expect(matchesStored('correct horse battery!', stored)).toBe(false);
    expect(matchesStored('x', { iterations: null, salt: null, sha256: 'ab' })).toBe(false);
    expect(matchesStored('x', null)).toBe(false);
  });
  it('makes verifiers the same check accepts, with the salt and iterations given', () => {
    const v = makeVerifier('s3cret', 4096, Buffer.from('WMss3BcqyQVUduonIQzKNQ==', 'base64'));
    expect(v.startsWith('SCRAM-SHA-256$4096:WMss3BcqyQVUduonIQzKNQ==$')).toBe(true);
    expect(verifyPassword('s3cret', v)).toBe(true);
    expect(makeVerifier('correct horse battery', 4096, parseVerifier(REAL_T1)!.salt)).toBe(REAL_T1);
  });
});

describe('pg_hba.conf', () => {
  const sample = readFileSync(path.join(import.meta.dirname, 'testdata', 'initdb.pg_hba.conf'), 'utf8');
  it('parses and renders initdb\'s file byte for byte', () => {
    const lines = parseHba(sample);
    expect(renderHba(lines)).toBe(sample);
    expect(lines.filter((l) => l.rule).map((l) => ruleKey(l.rule!))).toEqual([
      'local all all',
      'host all all 127.0.0.1/32',
      'host all all ::1/128',
      'local replication all',
      'host replication all 127.0.0.1/32',
      'host replication all ::1/128',
    ]);
  });
  it('keeps odd lines (no final newline, CRLF, tabs, quoted names, masks, include) as they are', () => {
    const odd = '# c\r\nhost\t"my db"  all 10.0.0.0 255.0.0.0 md5 # trailing\ninclude_if_exists extra.conf\n\nlocal all all peer map=x';
    const lines = parseHba(odd);
    expect(renderHba(lines)).toBe(odd);
    expect(lines[1]!.rule).toEqual({ type: 'host', database: '"my db"', user: 'all', address: '10.0.0.0', mask: '255.0.0.0', method: 'md5', options: '' });
    expect(lines[2]!.rule).toBeUndefined();
    expect(lines[4]!.rule).toEqual({ type: 'local', database: 'all', user: 'all', method: 'peer', options: 'map=x' });
    const added = renderHba(applyRules(lines, [{ type: 'host', database: 'replication', user: 'repl', address: '10.1.1.1/32', method: 'scram-sha-256', options: '' }]));
    expect(added).toBe(`${renderRule({ type: 'host', database: 'replication', user: 'repl', address: '10.1.1.1/32', method: 'scram-sha-256', options: '' })}\n${odd}`);
  });
  it('rewrites an existing rule for the same connection in place and leaves every other line', () => {
    const lines = parseHba(sample);
    const out = renderHba(applyRules(lines, [{ type: 'host', database: 'replication', user: 'all', address: '127.0.0.1/32', method: 'scram-sha-256', options: '' }]));
    const before = sample.split('\n');
    const after = out.split('\n');
    expect(after).toHaveLength(before.length);
    const changed = before.map((l, i) => (l === after[i] ? null : [l, after[i]])).filter(Boolean);
    expect(changed).toEqual([['host    replication     all             127.0.0.1/32            trust', 'host    replication     all             127.0.0.1/32            scram-sha-256']]);
    expect(renderHba(applyRules(parseHba(out), [{ type: 'host', database: 'replication', user: 'all', address: '127.0.0.1/32', method: 'scram-sha-256', options: '' }]))).toBe(out);
  });
});

describe('primary_conninfo', () => {
  it('parses quoting and escapes, renders back, redacts the password', () => {
    const text = "user=repl passfile='/var/lib/postgresql/.pgpass' host=10.0.0.1 port=5432 password='it\\'s a \\\\secret' sslmode=prefer";
    const p = parseConninfo(text);
    expect(p).toEqual({ user: 'repl', passfile: '/var/lib/postgresql/.pgpass', host: '10.0.0.1', port: '5432', password: "it's a \\secret", sslmode: 'prefer' });
    expect(parseConninfo(renderConninfo(p))).toEqual(p);
    const red = redactConninfo(text);
    expect(red).not.toContain('secret');
    expect(red).toContain('password=<redacted>');
    expect(redactConninfo("host='unterminated")).not.toContain('unterminated'.repeat(2));
  });
  it('reads the batch answer, whose conninfo arrives without its password (captured from PostgreSQL 15)', () => {
    // primary_conninfo was: host=10.0.0.1 port=5432 password='it\'s a \\secret' user=repl application_name=db2
    const json = '{"version" : 150018, "inRecovery" : false, "systemIdentifier" : "7712908314952494662", "dataDirectory" : "/tmp/d", "configFile" : "/tmp/d/postgresql.conf", "hbaFile" : "/tmp/d/pg_hba.conf", "settings" : {}, "roles" : {}, "slots" : [], "hbaErrors" : [], "walReceiver" : null, "conninfo" : {"text" : "host=10.0.0.1 port=5432  user=repl application_name=db2", "passwordSha256" : "a616cff42647ae926835abefc7ea48b9a840499485bb3753f5ced58a0fb1dce1"}}';
    const s = parseBatch(json);
    expect(s.conninfo).toEqual({ params: { host: '10.0.0.1', port: '5432', user: 'repl', application_name: 'db2' }, passwordSha256: sha256("it's a \\secret") });
  });
});

describe('setting values', () => {
  const kb = { unit: 'kB', vartype: 'integer' };
  it('compares in the setting\'s base unit', () => {
    expect(normalizeValue('64MB', kb)).toBe('65536');
    expect(normalizeValue(4096, kb)).toBe('4096');
    expect(normalizeValue('1GB', { unit: '8kB', vartype: 'integer' })).toBe('131072');
    expect(normalizeValue('5min', { unit: 's', vartype: 'integer' })).toBe('300');
    expect(normalizeValue('64xB', kb)).toBeUndefined();
    expect(sameValue('on', { setting: 'on', unit: null, vartype: 'bool', context: 'sighup', pending: false })).toBe(true);
    expect(sameValue(true, { setting: 'on', unit: null, vartype: 'bool', context: 'sighup', pending: false })).toBe(true);
    expect(sameValue('Replica', { setting: 'replica', unit: null, vartype: 'enum', context: 'postmaster', pending: false })).toBe(true);
    expect(sameValue('4MB', { setting: '4096', unit: 'kB', vartype: 'integer', context: 'user', pending: false })).toBe(true);
  });
  it('uses wal_keep_size from 13 on and wal_keep_segments before', () => {
    expect(settingsForVersion({ wal_keep_size: '1GB' }, 120010)).toEqual({ wal_keep_segments: 64 });
    expect(settingsForVersion({ wal_keep_segments: 32 }, 150004)).toEqual({ wal_keep_size: '512MB' });
    expect(settingsForVersion({ wal_keep_size: '1GB' }, 150004)).toEqual({ wal_keep_size: '1GB' });
  });
  it('merges postgresql.auto.conf, replacing lines in place', () => {
    const text = "# Do not edit this file manually!\nprimary_conninfo = 'host=a'\nwal_level = 'replica'\n";
    expect(mergeAutoConf(text, { primary_conninfo: "host=b password='x'", port: '5433' })).toBe("# Do not edit this file manually!\nprimary_conninfo = 'host=b password=''x'''\nwal_level = 'replica'\nport = '5433'\n");
  });
  it('reads versions and application names', () => {
    expect(parseVersionOutput('postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n')).toBe(150018);
    expect(applicationNameOf('db2.example.com')).toBe('db2.example.com');
  });
});
