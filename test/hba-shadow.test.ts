/** A managed hba rule that an earlier one of the spec always matches first is a warning at its line (DESIGN §8.2 rule 5). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-hba-shadow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('warns at the shadowed rule, names the rule that wins and its line; a duplicate is only "declared twice"', async () => {
  const spec = path.join(dir, 'db1.yaml');
  writeFileSync(
    spec,
    `host: db1
postgres:
  instance: {version: 15, cluster: main}
  role: primary
  hba:
    - {type: host, database: all, user: all, address: 10.0.0.0/8, method: scram-sha-256}
    - {type: host, database: app, user: all, address: 10.1.0.0/16, method: reject}
    - {type: host, database: replication, user: repl, address: 10.0.0.2/32, method: scram-sha-256}
    - {type: hostssl, database: app, user: alice, address: 10.200.0.0/16, method: cert}
`,
  );
  const r = await runCli(['validate', spec]);
  expect(r.exitCode).toBe(0);
  expect(r.stderr).toBe(
    `${spec}:7:7: warning: postgres.hba: host app all 10.1.0.0/16 never applies: the earlier rule host all all 10.0.0.0/8 (line 6) matches every connection it does first (pg_hba.conf: first match wins; order: N sets the order)\n` +
      `${spec}:9:7: warning: postgres.hba: hostssl app alice 10.200.0.0/16 never applies: the earlier rule host all all 10.0.0.0/8 (line 6) matches every connection it does first (pg_hba.conf: first match wins; order: N sets the order)\n`,
  );
});
