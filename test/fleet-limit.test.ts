/** `--limit` on validate --fleet and spec, as a user runs them on the example fleet. */
import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { REPO, runCli } from './helpers/cli.js';

const FLEET = path.join(REPO, 'examples', 'fleet');

describe('--limit', () => {
  it('spec --limit prints each selected host\'s merged spec, in fleet order', async () => {
    const y = await runCli(['spec', '--limit', 'web*,!web2', '--limit', '&group:media'], { cwd: FLEET });
    expect(y.stderr).toBe('');
    expect(y.exitCode).toBe(0);
    expect(y.stdout.split('\n').filter((l) => l.startsWith('# ') && l.includes('merged from'))).toEqual([
      '# web1: merged from roles/base.yaml, roles/media-client.yaml, hosts/web1.yaml',
      '# web3: merged from roles/base.yaml, roles/media-client.yaml, hosts/web3.yaml',
    ]);
    const j = JSON.parse((await runCli(['spec', '--limit', 'group:db', '--format', 'json'], { cwd: FLEET })).stdout);
    expect(Object.keys(j.hosts)).toEqual(['db1', 'db2']);
    expect(j.hosts.db2.spec.postgres.primary.host).toBe('192.168.1.99');
  });

  it('validate --fleet --limit counts the selected hosts; a bad term is exit 1 with a did-you-mean', async () => {
    const ok = await runCli(['validate', '--fleet', '--limit', 'group:db'], { cwd: FLEET });
    expect(ok.stdout).toBe('fleet.yaml: 2 hosts valid\n');
    expect(ok.exitCode).toBe(0);
    for (const [term, message] of [
      ['wbe1', '--limit: wbe1 matches no host of the fleet (did you mean web1?)'],
      ['group:', '--limit: group: names no group; say group:NAME'],
      ['!', '--limit: ! says nothing after !; give a host glob or group:NAME after it'],
      ['web1,,db1', "--limit \"web1,,db1\": an empty term; terms are separated by single commas, e.g. --limit 'web*,!web3'"],
    ]) {
      const r = await runCli(['validate', '--fleet', '--limit', term!], { cwd: FLEET });
      expect(r.stderr, term).toBe(`${message}\n`);
      expect(r.exitCode, term).toBe(1);
    }
    const spec = await runCli(['spec', 'web1', '--limit', 'web1'], { cwd: FLEET });
    expect(spec.exitCode).toBe(1);
    expect((await runCli(['validate', 'hosts/web1.yaml', '--limit', 'web1'], { cwd: FLEET })).stderr).toBe('reconcile validate: --limit selects hosts of a fleet; give it with --fleet\n');
  });
});
