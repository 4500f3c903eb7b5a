/**
 * `reconcile validate --fleet` and `reconcile spec` as a user runs them, on small fleets written to
 * a temporary git repository: each error case prints exactly its FILE:LINE:COL messages, exit 1.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { REPO, runCli } from './helpers/cli.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A fleet repository from {path: text}; `.git` marks the repository root. */
function fleet(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-fleet-cli-'));
  dirs.push(dir);
  mkdirSync(path.join(dir, '.git'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

const FLEET = 'hosts:\n  web1: {address: 10.0.0.1/24, groups: [web]}\n  nfs1: {address: 10.0.0.2/24}\ngroups:\n  web: {include: [roles/web.yaml]}\n';

async function validate(dir: string): Promise<string> {
  const r = await runCli(['validate', '--fleet'], { cwd: dir });
  expect(r.stderr).not.toMatch(/^\s+at /m);
  return `${r.stderr}exit=${r.exitCode}\n`;
}

describe('validate --fleet: errors at the include, FILE:LINE:COL, exit 1', () => {
  it('an include cycle', async () => {
    const dir = fleet({
      'fleet.yaml': FLEET,
      'roles/web.yaml': 'include: [roles/a.yaml]\n',
      'roles/a.yaml': 'timezone: Etc/UTC\ninclude: [./b.yaml]\n',
      'roles/b.yaml': 'include: [../roles/a.yaml]\n',
      'hosts/web1.yaml': 'host: web1\n',
      'hosts/nfs1.yaml': 'host: nfs1\n',
    });
    expect(await validate(dir)).toBe('roles/b.yaml:1:11: include cycle: roles/a.yaml → roles/b.yaml → roles/a.yaml (included by host web1)\nexit=1\n');
  });

  it('an include outside the repository, directly or through a symlink', async () => {
    const dir = fleet({
      'fleet.yaml': FLEET,
      'roles/web.yaml': '{}\n',
      'hosts/web1.yaml': 'host: web1\ninclude:\n  - ../../outside.yaml\n  - roles/link.yaml\n',
      'hosts/nfs1.yaml': 'host: nfs1\n',
    });
    writeFileSync(path.join(dir, '..', `${path.basename(dir)}-outside.yaml`), 'timezone: Etc/UTC\n');
    symlinkSync(path.join(dir, '..', `${path.basename(dir)}-outside.yaml`), path.join(dir, 'roles', 'link.yaml'));
    dirs.push(path.join(dir, '..', `${path.basename(dir)}-outside.yaml`));
    const real = (await import('node:fs')).realpathSync(dir);
    expect(await validate(dir)).toBe(
      `hosts/web1.yaml:3:5: include ../../outside.yaml: outside the repository (${real})\n` +
        `hosts/web1.yaml:4:5: include roles/link.yaml: leads outside the repository (${real}) through a symlink\nexit=1\n`,
    );
  });

  it('a missing fragment, in a host file and in a group of fleet.yaml', async () => {
    const dir = fleet({
      'fleet.yaml': FLEET,
      'hosts/web1.yaml': 'host: web1\ninclude: [roles/nope.yaml]\n',
      'hosts/nfs1.yaml': 'host: nfs1\n',
    });
    expect(await validate(dir)).toBe('fleet.yaml:5:19: include roles/web.yaml: no such file (included by host web1)\nhosts/web1.yaml:2:11: include roles/nope.yaml: no such file\nexit=1\n');
  });

  it('different values from two files neither of which includes the other; defaults: true settles it', async () => {
    const files = {
      'fleet.yaml': FLEET,
      'roles/web.yaml': 'units:\n  - {name: app.service, enabled: true, state: running}\n',
      'roles/other.yaml': 'units:\n  - {name: app.service, enabled: false}\n',
      'hosts/web1.yaml': 'host: web1\ninclude: [roles/other.yaml]\n',
      'hosts/nfs1.yaml': 'host: nfs1\n',
    };
    expect(await validate(fleet(files))).toBe(
      'roles/other.yaml:2:34: units[app.service].enabled: false conflicts with true at roles/web.yaml:2:34; neither file includes the other (say it in a file that includes both, or mark one file defaults: true) (included by host web1)\nexit=1\n',
    );
    const settled = fleet({ ...files, 'roles/other.yaml': `defaults: true\n${files['roles/other.yaml']}` });
    expect(await validate(settled)).toBe('exit=0\n');
    const spec = await runCli(['spec', 'web1', '--format', 'json'], { cwd: settled });
    expect(JSON.parse(spec.stdout).spec.units).toEqual([{ name: 'app.service', enabled: true, state: 'running' }]);
  });

  it('an exclude that matches nothing, and one that drops only what includes bring', async () => {
    const dir = fleet({
      'fleet.yaml': FLEET,
      'roles/web.yaml': 'units:\n  - {name: snapd.service, enabled: false}\n  - {name: app.service, dropins: {10-a.conf: "[Service]\\nNice=1\\n"}}\n',
      'hosts/web1.yaml': 'host: web1\nexclude: ["units[snapd.service]", "units[app.service].dropins[10-a.conf]", "units[own.service]"]\nunits:\n  - {name: own.service, enabled: true}\n',
      'hosts/nfs1.yaml': 'host: nfs1\n',
    });
    expect(await validate(dir)).toBe("hosts/web1.yaml:2:76: exclude: units[own.service] matches nothing this file's includes bring\nexit=1\n");
  });

  it('includes nested deeper than 8', async () => {
    const chain: Record<string, string> = {};
    for (let i = 1; i <= 9; i++) chain[`roles/r${i}.yaml`] = i < 9 ? `include: [./r${i + 1}.yaml]\n` : 'timezone: Etc/UTC\n';
    const dir = fleet({ ...chain, 'fleet.yaml': FLEET, 'roles/web.yaml': '{}\n', 'hosts/web1.yaml': 'host: web1\ninclude: [roles/r1.yaml]\n', 'hosts/nfs1.yaml': 'host: nfs1\n' });
    expect(await validate(dir)).toBe('roles/r8.yaml:1:11: include ./r9.yaml: includes nest deeper than 8 (included by host web1)\nexit=1\n');
  });

  it('typed references to hosts and groups that do not exist, or outside a fleet', async () => {
    const dir = fleet({
      'fleet.yaml': FLEET,
      'roles/web.yaml': 'mounts:\n  - {path: /mnt/a, source: {fleet: nfs2, path: /a}, type: nfs}\n',
      'hosts/web1.yaml': 'host: web1\n',
      'hosts/nfs1.yaml': 'host: nfs1\nexports:\n  - path: /a\n    clients: [{host: {fleet: group:wbe}, options: [ro]}]\n',
    });
    expect(await validate(dir)).toBe(
      'roles/web.yaml:2:28: {fleet: nfs2}: no host nfs2 in the fleet (did you mean nfs1?) (included by host web1)\nhosts/nfs1.yaml:4:22: {fleet: group:wbe}: no group wbe in fleet.yaml\nexit=1\n',
    );
    const solo = fleet({ 'solo.yaml': 'host: solo\nmounts:\n  - {path: /mnt/a, source: {fleet: nfs1, path: /a}, type: nfs}\n' });
    const r = await runCli(['spec', 'solo.yaml'], { cwd: solo });
    expect(`${r.stderr}exit=${r.exitCode}\n`).toBe('solo.yaml:3:28: {fleet: nfs1}: a typed reference needs a fleet (fleet.yaml at the repository root)\nexit=1\n');
  });

  it('a duplicate made by a group reference names the other line; a host spec outside the repository', async () => {
    const dir = fleet({
      'fleet.yaml': 'hosts:\n  a: {address: 10.0.0.1, groups: [g]}\n  b: {address: 10.0.0.2, groups: [g]}\n  c: {address: 10.0.0.3, spec: ../x.yaml}\ngroups:\n  g: {}\n',
      'hosts/a.yaml': 'host: a\npostgres:\n  instance: {version: 15, cluster: main}\n  role: primary\n  hba:\n    - {type: host, database: all, user: all, address: {fleet: group:g}, method: md5}\n    - {type: host, database: all, user: all, address: 10.0.0.2/32, method: md5}\n',
      'hosts/b.yaml': 'host: b\n',
    });
    expect(await validate(dir)).toBe(
      `hosts/a.yaml:7:7: postgres.hba: host all all 10.0.0.2/32 is declared twice (here and at hosts/a.yaml:6:7)\nfleet.yaml:4:32: hosts.c: its spec ${path.join(path.dirname(dir), 'x.yaml')} is outside the repository (${dir})\nexit=1\n`,
    );
  });

  it('hostile include paths: dot-dot inside, a leading dash, NUL, CR and LF stay one-line errors', async () => {
    const dir = fleet({
      'fleet.yaml': FLEET,
      'roles/web.yaml': '{}\n',
      'roles/ok.yaml': 'timezone: Etc/UTC\n',
      'hosts/web1.yaml': 'host: web1\ninclude:\n  - roles/../roles/ok.yaml\n  - -rf.yaml\n  - "a\\0b.yaml"\n  - "a\\r\\nb.yaml"\n  - roles/../../x.yaml\n',
      'hosts/nfs1.yaml': 'host: nfs1\n',
    });
    const real = (await import('node:fs')).realpathSync(dir);
    expect(await validate(dir)).toBe(
      [
        'hosts/web1.yaml:4:5: include -rf.yaml: no such file',
        'hosts/web1.yaml:5:5: include "a\\u0000b.yaml": no such file',
        'hosts/web1.yaml:6:5: include "a\\r\\nb.yaml": no such file',
        `hosts/web1.yaml:7:5: include roles/../../x.yaml: outside the repository (${real})`,
        'exit=1',
        '',
      ].join('\n'),
    );
  });

  it('a merge key', async () => {
    const dir = fleet({
      'fleet.yaml': FLEET,
      'roles/web.yaml': 'x-base: &base {enabled: true}\nunits:\n  - <<: *base\n    name: app.service\n',
      'hosts/web1.yaml': 'host: web1\n',
      'hosts/nfs1.yaml': 'host: nfs1\n',
    });
    expect(await validate(dir)).toBe('roles/web.yaml:3:5: merge keys are not supported; use include (included by host web1)\nexit=1\n');
  });

  it('a fragment error points into the fragment and names every host that includes it', async () => {
    const dir = fleet({
      'fleet.yaml': 'hosts:\n  web1: {address: 10.0.0.1, groups: [web]}\n  web2: {address: 10.0.0.2, groups: [web]}\ngroups:\n  web: {include: [roles/web.yaml]}\n',
      'roles/web.yaml': 'timezone: Etc/UTC\nmounts:\n  - {path: /mnt/a, source: "x:/a", type: nfs, optoins: [ro]}\n',
      'hosts/web1.yaml': 'host: web1\n',
      'hosts/web2.yaml': 'host: web2\n',
    });
    expect(await validate(dir)).toBe('roles/web.yaml:3:47: unknown key "optoins" in mounts[/mnt/a] (did you mean "options"?) (included by hosts web1, web2)\nexit=1\n');
  });

  it('a checker finding on a merged value points at the file that said it', async () => {
    const files = {
      'fleet.yaml': FLEET,
      'roles/web.yaml': 'timezone: Mars/Olympus\nunits:\n  - {name: app.service, enabled: true}\n',
      'hosts/web1.yaml': 'host: web1\n',
      'hosts/nfs1.yaml': 'host: nfs1\n',
    };
    expect(await validate(fleet(files))).toBe(
      'roles/web.yaml:1:11: timezone: "Mars/Olympus" is not a zone known to tzdata (/usr/share/zoneinfo) (included by host web1)\nexit=1\n',
    );
    const own = fleet({ ...files, 'roles/web.yaml': 'units:\n  - {name: app.service, enabled: true}\n', 'hosts/web1.yaml': 'host: web1\nunits:\n  - {name: app.service, state: sleeping}\n' });
    expect(await validate(own)).toBe('hosts/web1.yaml:3:32: units[app.service].state: expected one of "running", "stopped", "absent", got "sleeping"\nexit=1\n');
  });

  it('an inventory: a host declared twice, an address used twice, an unknown group, a cycle in after', async () => {
    const dir = fleet({
      'fleet.yaml': 'inventory: [inventory/*.yaml]\nhosts:\n  web1: {address: 10.0.0.1/24, groups: [web], after: [web2]}\ngroups:\n  web: {}\n',
      'inventory/a.yaml': 'hosts:\n  web2: {address: 10.0.0.1, after: [web1]}\n',
      'inventory/b.yaml': 'hosts:\n  web1: {address: 10.0.0.3, groups: [wbe]}\n  web3: {addresses: [10.0.0.4/33], groups: [wbe]}\n',
      'hosts/web1.yaml': 'host: web1\n',
      'hosts/web2.yaml': 'host: web2\n',
      'hosts/web3.yaml': 'host: web3\n',
    });
    expect(await validate(dir)).toBe(
      [
        'inventory/a.yaml:2:19: the address of host web2 is also the address of host web1 (fleet.yaml:3:19)',
        'inventory/b.yaml:2:3: host web1 is declared twice (also at fleet.yaml:3:9)',
        'inventory/b.yaml:3:22: "10.0.0.4/33": /33 is longer than 32 bits',
        'inventory/b.yaml:3:45: hosts.web3: group "wbe" is not declared under groups: in fleet.yaml (an empty map is enough: wbe: {})',
        'fleet.yaml:3:54: after: cycle web1 → web2 → web1',
        'exit=1',
        '',
      ].join('\n'),
    );
  });

  it('rollouts: maxFailures above the slots maxParallel gives (percentages of the group resolved), health commands and URLs that cannot work as written', async () => {
    const hosts = { 'hosts/web1.yaml': 'host: web1\n', 'hosts/web2.yaml': 'host: web2\n' };
    const dir = fleet({
      'fleet.yaml': [
        'hosts:',
        '  web1: {address: 10.0.0.1/24, groups: [web, pct]}',
        '  web2: {address: 10.0.0.2/24, groups: [web, pct]}',
        'groups:',
        '  web: {rollout: {maxParallel: 2, maxFailures: 3}}',
        '  pct: {rollout: {maxParallel: "50%", health: {command: ["curl -f http://127.0.0.1/", "a\\nb"], http: "http://u:hunter2@127.0.0.1/health"}}}',
        '  ok: {rollout: {maxParallel: 2, maxFailures: 2, health: {command: [curl, -fsS, "http://127.0.0.1/?a=1&b=$x;y|z", "$(reboot)"], http: "https://[::1]:8443/health"}}}',
        'defaults: {rollout: {maxFailures: 2, health: {command: [./check.sh], http: "http://[::1/"}}}',
        '',
      ].join('\n'),
      ...hosts,
    });
    const out = await validate(dir);
    expect(out).toBe(
      [
        "fleet.yaml:5:48: groups.web: maxFailures 3 is more than the group's slots (maxParallel is 2): failed slots keep their place, so every slot would hold a failed host and the group would stop without ever halting; maxFailures must be between 1 and maxParallel",
        "fleet.yaml:6:32: groups.pct: maxFailures 2 is more than the group's slots (maxParallel 50% of its 2 hosts is 1): failed slots keep their place, so every slot would hold a failed host and the group would stop without ever halting; maxFailures must be between 1 and maxParallel",
        'fleet.yaml:6:58: groups.pct: health.command[0]: "curl -f http://127.0.0.1/" holds blanks: the command is an argv array, run without a shell, not a shell line; split it, e.g. [curl, -f, http://127.0.0.1/]',
        'fleet.yaml:6:87: groups.pct: health.command[1]: holds a NUL byte or a line break; an argv word cannot carry one',
        'fleet.yaml:6:102: groups.pct: health.http: the URL holds a user or password (user:pass@), which would be written into the journal and the fleet status when the gate fails; give a URL without credentials (or a health.command that reads them from a file)',
        "fleet.yaml:8:57: defaults: health.command[0]: \"./check.sh\" is a relative path, which would depend on the apply's working directory; give an absolute path or a plain name found in PATH",
        'fleet.yaml:8:76: defaults: health.http: not a URL (expected http://HOST[:PORT]/PATH or https://…)',
        'exit=1',
        '',
      ].join('\n'),
    );
    expect(out).not.toContain('hunter2');
    // At the limit is fine: maxFailures equal to the slots a percentage gives.
    const ok = fleet({ 'fleet.yaml': 'hosts:\n  web1: {address: 10.0.0.1/24, groups: [web]}\n  web2: {address: 10.0.0.2/24, groups: [web]}\ngroups:\n  web: {rollout: {maxParallel: "100%", maxFailures: 2}}\n', ...hosts });
    expect(await validate(ok)).toBe('exit=0\n');
  });

  it('a spec outside any fleet is checked as before; `spec` prints it', async () => {
    const dir = fleet({ 'hosts/solo.yaml': 'host: solo\ntimezone: Etc/UTC\n' });
    const r = await runCli(['spec', 'hosts/solo.yaml'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('# solo: merged from hosts/solo.yaml\nhost: solo # hosts/solo.yaml:1\ntimezone: Etc/UTC # hosts/solo.yaml:2\n');
    expect((await runCli(['validate', '--fleet'], { cwd: dir })).stderr).toMatch(/no fleet\.yaml in \. or above it/);
  });
});

describe('the example fleet', () => {
  const EX = path.join(REPO, 'examples', 'fleet');

  it('validates', async () => {
    const r = await runCli(['validate', '--fleet', 'examples/fleet']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('examples/fleet/fleet.yaml: 7 hosts valid\n');
    expect(r.exitCode).toBe(0);
  });

  it('spec prints each merged host with origins; the YAML is itself a valid spec', async () => {
    const r = await runCli(['spec', 'web2'], { cwd: EX });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('  - path: /mnt/share # roles/media-client.yaml:6\n'.replace(' # roles/media-client.yaml:6', ''));
    expect(r.stdout).toContain('    # hosts/web2.yaml:4 (overrides roles/media-client.yaml:6)\n    options:\n');
    const merged = parse(r.stdout) as Record<string, unknown>;
    expect((merged.mounts as { source: string }[])[0]!.source).toBe('192.168.1.140:/data/share');
    const dir = fleet({ 'web2.yaml': r.stdout });
    const check = await runCli(['validate', 'web2.yaml'], { cwd: dir });
    expect(check.stderr.replace(/^.*warning: .*\n/gm, '')).toBe('');
    expect(check.exitCode).toBe(0);
  });

  it('validate SPEC of a fleet host checks its merged spec', async () => {
    const r = await runCli(['validate', 'hosts/web2.yaml', 'hosts/db2.yaml'], { cwd: EX });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hosts/web2.yaml: valid\nhosts/db2.yaml: valid\n');
    const dir = fleet({ 'fleet.yaml': FLEET, 'roles/web.yaml': 'timezone: Mars/Olympus\n', 'hosts/web1.yaml': 'host: web1\n' });
    const bad = await runCli(['validate', 'hosts/web1.yaml'], { cwd: dir });
    expect(`${bad.stderr}exit=${bad.exitCode}\n`).toBe('roles/web.yaml:1:11: timezone: "Mars/Olympus" is not a zone known to tzdata (/usr/share/zoneinfo) (included by host web1)\nexit=1\n');
  });

  it('spec writes shared lists out in full, never as YAML anchors', async () => {
    const r = await runCli(['spec', 'nfs1'], { cwd: EX });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).not.toMatch(/[&*]a\d/);
    expect(r.stdout.match(/- host: 192\.168\.1\.\d+\n {8}options:\n {10}- rw\n/g)?.length).toBe(3);
  });

  it('spec --format json carries origins and every source', async () => {
    const r = await runCli(['spec', 'hosts/db2.yaml', '--format', 'json'], { cwd: EX });
    const out = JSON.parse(r.stdout) as { spec: { postgres: { primary: { host: string } } }; origins: Record<string, string>; sources: { path: string }[] };
    expect(out.spec.postgres.primary.host).toBe('192.168.1.99');
    expect(out.origins['postgres.instance']).toBe('roles/postgres.yaml:4');
    expect(out.origins['postgres.primary']).toBe('hosts/db2.yaml:5');
    expect(out.sources.map((s) => s.path)).toEqual(['roles/base.yaml', 'roles/postgres.yaml', 'hosts/db2.yaml']);
  });
});
