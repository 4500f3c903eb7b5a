/**
 * [Install] values that are paths: the spec's are refused by validate at their position; a host
 * unit file's are refused by plan and apply, and no link or directory is made where they point.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';

let dir: string;
let root: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'reconcile-install-'));
  root = path.join(dir, 'root');
  mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
  mkdirSync(path.join(root, 'lib/systemd/system'), { recursive: true });
  writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('[Install] values must be unit names', () => {
  it('validate reports a path in WantedBy=/Alias= of the spec at FILE:LINE:COL', async () => {
    const spec = path.join(dir, 'host.yaml');
    writeFileSync(
      spec,
      `host: h
units:
  - name: x.service
    enabled: true
    content: |
      [Service]
      ExecStart=/bin/true
      [Install]
      WantedBy=../../../tmp/evil.target
      Alias=/etc/passwd
`,
    );
    const v = await runCli(['validate', spec]);
    expect(v.exitCode).toBe(1);
    expect(v.stdout + v.stderr).toMatch(new RegExp(`${spec}:5:5: units\\[x.service\\]: content line 4: \\[Install\\] WantedBy=../../../tmp/evil.target is a path, not a unit name`));
    expect(v.stdout + v.stderr).toMatch(/:5:5: .*content line 5: \[Install\] Alias=\/etc\/passwd is a path/);
  });

  it('a host unit file with Alias=../../../etc/passwd is refused by apply, and /etc/passwd stays', async () => {
    writeFileSync(path.join(root, 'lib/systemd/system/evil.service'), '[Service]\nExecStart=/bin/true\n[Install]\nAlias=../../../etc/passwd\n');
    const spec = path.join(dir, 'host.yaml');
    writeFileSync(spec, 'host: h\nunits:\n  - {name: evil.service, enabled: true}\n');
    const a = await runCli(['apply', spec, '--root', root, '--yes']);
    expect(a.exitCode).toBe(1);
    expect(a.stderr).toContain('/lib/systemd/system/evil.service: [Install] Alias=../../../etc/passwd is a path, not a unit name; not creating a link for it');
    expect(readFileSync(path.join(root, 'etc/passwd'), 'utf8')).toBe('root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(path.join(root, 'lib/systemd/system/evil.service'), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=../../../outside.target\n');
    const b = await runCli(['apply', spec, '--root', root, '--yes']);
    expect(b.exitCode).toBe(1);
    expect(b.stderr).toContain('[Install] WantedBy=../../../outside.target is a path, not a unit name');
    // Nothing at the root's /outside.target; apply's only mark is its lock file, taken before it observes.
    expect(readdirSync(root).sort()).toEqual(['etc', 'lib', 'var']);
    expect(readdirSync(path.join(root, 'var/lib/reconcile')).filter((n) => n !== 'lock' && n !== 'lock.fence')).toEqual([]);
    expect(readdirSync(path.join(root, 'etc/systemd/system'))).toEqual([]);
  });
});
