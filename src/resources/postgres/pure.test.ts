/** Pure parts of the postgres kind: SCRAM, pg_hba.conf, conninfo, setting values. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { makeVerifier, matchesStored, parseVerifier, verifyPassword } from './scram.js';
import { applyRules, hbaFields, parseHba, renderHba, renderRule, ruleKey, shadows, type HbaLine } from './hba.js';
import { parseConninfo, redactConninfo, renderConninfo } from './conninfo.js';
import { mergeAutoConf, normalizeValue, sameValue, settingsForVersion } from './settings.js';
import { batchQuery, parseBatch, parseVersionOutput, sha256 } from './observe.js';
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

/**
 * PostgreSQL's own reading of pg_hba.conf (hba.c: tokenize_auth_file, next_field_expand,
 * next_token). The server in the tests is 15, which has no continuation lines, so records
 * continued with a backslash are checked on fixture files; test/postgres-hba.test.ts checks the
 * comma lists against the real server's pg_hba_file_rules.
 */
describe('pg_hba.conf as PostgreSQL tokenizes it', () => {
  const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, 'testdata', name), 'utf8');
  const rules = (lines: HbaLine[]) => lines.filter((l) => l.rule).map((l) => [l.line, ruleKey(l.rule!), l.rule!.method, l.rule!.options]);

  it('fields: blanks may follow a comma inside a list but end the field before one; quotes hold blanks, commas and #', () => {
    expect(hbaFields('host db1, db2 "alice", bob 10.0.0.0/8 md5')).toEqual([['host'], ['db1', 'db2'], ['"alice"', 'bob'], ['10.0.0.0/8'], ['md5']]);
    expect(hbaFields('local all /^a$, bob peer')).toEqual([['local'], ['all'], ['/^a$', 'bob'], ['peer']]);
    expect(hbaFields('host db1 ,db2 all')).toEqual([['host'], ['db1'], ['db2'], ['all']]);
    expect(hbaFields('host db1,,db2, all x')).toEqual([['host'], ['db1', 'db2', 'all'], ['x']]);
    expect(hbaFields('host "a b,c#d" all x md5#comment')).toEqual([['host'], ['"a b,c#d"'], ['all'], ['x'], ['md5']]);
    expect(hbaFields('host "say ""hi""" all')).toEqual([['host'], ['"say ""hi"""'], ['all']]);
  });

  it('reads records continued with a trailing backslash as one (PostgreSQL 16+), and keeps every byte', () => {
    const text = fixture('continuation.pg_hba.conf');
    const lines = parseHba(text);
    expect(renderHba(lines)).toBe(text);
    expect(rules(lines)).toEqual([
      [3, 'host all all 10.0.0.0/8', 'scram-sha-256', ''],
      [5, 'host db1,db2 "alice",bob 192.168.0.0/16', 'md5', ''],
      [6, 'local all /^a$,bob', 'peer', ''],
      [7, 'host all all 127.0.0.1/32', 'ident', 'map=omicron'],
      // line 9 is a comment that swallowed line 10
      [11, 'hostssl "my db",sales all ::1/128', 'cert', 'clientcert=verify-full'],
      [12, 'host all all 172.16.0.0 255.240.0.0', 'md5', ''],
      [13, 'host app all 10.1.0.0/16', 'scram-sha-256', ''],
    ]);
    const crlf = fixture('crlf.pg_hba.conf');
    expect(rules(parseHba(crlf))).toEqual([
      [1, 'host all all 10.0.0.1/32', 'md5', ''],
      [2, 'host all all 10.0.0.2/32', 'trust', ''],
    ]);
    expect(renderHba(parseHba(crlf))).toBe(crlf);
  });

  it('before PostgreSQL 16 a trailing backslash is part of the token, and the next line stands alone', () => {
    const lines = parseHba(fixture('continuation.pg_hba.conf'), { continuation: false });
    expect(lines.find((l) => l.line === 3)!.rule).toMatchObject({ address: '10.0.0.0/8', method: '\\' });
    expect(lines.find((l) => l.line === 4)!.rule).toBeUndefined();
    expect(lines.find((l) => l.line === 10)!.rule).toMatchObject({ address: '10.9.9.9/32', method: 'trust' });
  });

  it('rewrites a continued record whole: no dangling continuation line, every other record kept', () => {
    const text = fixture('continuation.pg_hba.conf');
    const lines = parseHba(text);
    const wanted = [
      { type: 'host', database: 'all', user: 'all', address: '10.0.0.0/8', method: 'md5', options: '' },
      { type: 'host', database: 'app', user: 'all', address: '10.1.0.0/16', method: 'reject', options: '' },
      { type: 'host', database: 'db1, db2', user: '"alice",bob', address: '192.168.0.0/16', method: 'scram-sha-256', options: '' },
      { type: 'host', database: 'replication', user: 'repl', address: '10.2.2.2/32', method: 'scram-sha-256', options: '' },
    ];
    const out = renderHba(applyRules(lines, wanted));
    const again = parseHba(out);
    // Every record of the result is either an untouched record or one rendered line.
    const before = new Set(lines.map((l) => l.raw));
    for (const l of again) expect(before.has(l.raw) || (!l.raw.slice(0, -1).includes('\n') && !/\\\r?\n$/.test(l.raw)), l.raw).toBe(true);
    expect(out).not.toMatch(/^\s+scram-sha-256$/m);
    expect(out).not.toMatch(/^\s+10\.1\.0\.0\/16 \\$/m);
    // The managed rules in the spec's order over the lines they hold (first match wins).
    expect(rules(again).map((r) => [r[1], r[2]])).toEqual([
      ['host all all 10.0.0.0/8', 'md5'],
      ['host app all 10.1.0.0/16', 'reject'],
      ['host db1,db2 "alice",bob 192.168.0.0/16', 'scram-sha-256'],
      ['local all /^a$,bob', 'peer'],
      ['host all all 127.0.0.1/32', 'ident'],
      ['hostssl "my db",sales all ::1/128', 'cert'],
      ['host all all 172.16.0.0 255.240.0.0', 'md5'],
      ['host replication repl 10.2.2.2/32', 'scram-sha-256'],
    ]);
    // The spec's "db1, db2" is the file's "db1,db2": a second pass changes nothing.
    expect(renderHba(applyRules(again, wanted))).toBe(out);
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
  it('digests the conninfo password with the host key as HMAC pads; facts key the query without them', () => {
    const a = batchQuery(['port'], [], Buffer.alloc(32, 1));
    const b = batchQuery(['port'], [], Buffer.alloc(32, 2));
    const ipad = Buffer.alloc(64, 0x36).map((x, i) => (i < 32 ? x ^ 1 : x));
    expect(a.sql).toContain(Buffer.from(ipad).toString('hex'));
    expect(a.sql).not.toBe(b.sql);
    expect(a.keyForm).toBe(b.keyForm);
    expect(a.keyForm).not.toContain(Buffer.from(ipad).toString('hex'));
    expect(a.sql).not.toMatch(/sha256\(convert_to\(password/); // never a plain digest of the password
  });
  it('reads the batch answer, whose conninfo arrives without its password (captured from PostgreSQL 15)', () => {
    // primary_conninfo was: host=10.0.0.1 port=5432 password='it\'s a \\secret' user=repl application_name=db2
    const json = '{"version" : 150018, "inRecovery" : false, "systemIdentifier" : "7712908314952494662", "dataDirectory" : "/tmp/d", "configFile" : "/tmp/d/postgresql.conf", "hbaFile" : "/tmp/d/pg_hba.conf", "settings" : {}, "roles" : {}, "slots" : [], "hbaErrors" : [], "walReceiver" : null, "conninfo" : {"text" : "host=10.0.0.1 port=5432  user=repl application_name=db2", "passwordHmac" : "a616cff42647ae926835abefc7ea48b9a840499485bb3753f5ced58a0fb1dce1"}}';
    const s = parseBatch(json);
    expect(s.conninfo).toEqual({ params: { host: '10.0.0.1', port: '5432', user: 'repl', application_name: 'db2' }, passwordHmac: sha256("it's a \\secret") });
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

describe('hba order (DESIGN §8.2 rule 5)', () => {
  const rule = (address: string, method = 'scram-sha-256', database = 'all', user = 'all') => ({ type: 'host', database, user, address, method, options: '' });
  const text = '# hand-written\nlocal all postgres peer\nhost all all 10.9.0.0/16 md5\nhost all all 10.2.0.0/16 md5\n# kept\nhost all all 0.0.0.0/0 reject\n';
  it('puts managed rules in the spec order over the lines they hold; hand-written lines keep their places', () => {
    const out = renderHba(applyRules(parseHba(text), [rule('10.2.0.0/16', 'md5'), rule('10.9.0.0/16', 'md5')]));
    expect(out).toBe('# hand-written\nlocal all postgres peer\nhost all all 10.2.0.0/16 md5\nhost all all 10.9.0.0/16 md5\n# kept\nhost all all 0.0.0.0/0 reject\n');
    // In order already: nothing moves, a second pass is the same bytes.
    expect(renderHba(applyRules(parseHba(out), [rule('10.2.0.0/16', 'md5'), rule('10.9.0.0/16', 'md5')]))).toBe(out);
  });
  it('keeps a last line without its newline as it was, whichever rule lands there', () => {
    const bare = 'host all all 10.9.0.0/16 md5\nhost all all 10.2.0.0/16 md5';
    expect(renderHba(applyRules(parseHba(bare), [rule('10.2.0.0/16', 'md5'), rule('10.9.0.0/16', 'md5')]))).toBe('host all all 10.2.0.0/16 md5\nhost all all 10.9.0.0/16 md5');
  });
  it('knows when an earlier rule always matches first', () => {
    expect(shadows(rule('10.0.0.0/8'), rule('10.1.2.0/24'))).toBe(true);
    expect(shadows(rule('all'), rule('192.168.1.1/32'))).toBe(true);
    expect(shadows(rule('10.1.2.0/24'), rule('10.0.0.0/8'))).toBe(false);
    expect(shadows(rule('0.0.0.0/0'), rule('::1/128'))).toBe(false);
    expect(shadows(rule('::/0'), rule('fe80::1/128'))).toBe(true);
    // `all` does not match the replication pseudo-database; another user is another rule.
    expect(shadows(rule('10.0.0.0/8'), rule('10.0.0.1/32', 'md5', 'replication', 'repl'))).toBe(false);
    expect(shadows(rule('10.0.0.0/8', 'md5', 'all', 'alice'), rule('10.0.0.1/32', 'md5', 'app', 'bob'))).toBe(false);
    expect(shadows({ type: 'host', database: 'all', user: 'all', address: '10.0.0.0/8' }, { type: 'hostssl', database: 'app', user: 'all', address: '10.1.0.0/16' })).toBe(true);
    expect(shadows({ type: 'hostssl', database: 'all', user: 'all', address: '10.0.0.0/8' }, { type: 'host', database: 'app', user: 'all', address: '10.1.0.0/16' })).toBe(false);
    // Names and samenet are not judged: no certainty without DNS or the host's interfaces.
    expect(shadows(rule('samenet'), rule('10.0.0.1/32'))).toBe(false);
    expect(shadows(rule('.example.com'), rule('db.example.com'))).toBe(false);
  });
});
