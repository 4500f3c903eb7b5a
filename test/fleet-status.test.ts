/**
 * Fleet status and after: ordering (DESIGN §8.4 rule 7, §8.5) with a real redis-server: every host
 * is its own --root tree of one fleet repository, its applies run as separate processes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { BIN, runCli, type CliResult } from './helpers/cli.js';
import { startRedis, type RedisServer } from './helpers/redis.js';
import { describeNeeding } from './helpers/prereq.js';
import { schemaProblems } from './helpers/schema.js';
import { fleetKeys } from '../src/fleet/status/keys.js';
import { fleetRunFor } from '../src/fleet/status/run.js';
import { registerSecret } from '../src/spec/secrets.js';

let redis: RedisServer;
let client: Redis;
const dirs: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
}, 30_000);
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const unit = (name: string, exec = '/bin/true') => `units:\n  - name: ${name}\n    content: "[Service]\\nExecStart=${exec}\\n"\n    state: running\n`;

/** A fleet repository (a `.git` directory marks its root) and a root per host, under one temp dir. */
function fleet(fleetYaml: string, specs: Record<string, string>): { dir: string; repo: string; root: (h: string) => string; name: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-fleet-status-'));
  dirs.push(dir);
  const name = `st-${path.basename(dir).slice(-6).replace(/[^A-Za-z0-9]/g, 'x')}`;
  const repo = path.join(dir, 'repo');
  mkdirSync(path.join(repo, '.git'), { recursive: true });
  mkdirSync(path.join(repo, 'hosts'));
  writeFileSync(path.join(repo, 'fleet.yaml'), `name: ${name}\nredis: {env: FLEET_REDIS_URL}\n${fleetYaml}`);
  for (const [h, text] of Object.entries(specs)) {
    writeFileSync(path.join(repo, 'hosts', `${h}.yaml`), `host: ${h}\n${text}`);
    mkdirSync(path.join(dir, 'roots', h), { recursive: true });
  }
  return { dir, repo, name, root: (h) => path.join(dir, 'roots', h) };
}

/** The fleet repository as a real git repository with one commit. */
function gitRepo(f: ReturnType<typeof fleet>): { git: (...args: string[]) => string; first: string } {
  rmSync(path.join(f.repo, '.git'), { recursive: true });
  const git = (...args: string[]) => execFileSync('git', ['-C', f.repo, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-qm', 'one');
  return { git, first: git('rev-parse', 'HEAD') };
}

const env = () => ({ FLEET_REDIS_URL: redis.url });
const apply = (f: ReturnType<typeof fleet>, h: string) => runCli(['apply', path.join(f.repo, 'hosts', `${h}.yaml`), '--root', f.root(h), '--yes'], { env: env() });
const status = (f: ReturnType<typeof fleet>, ...args: string[]) => runCli(['fleet', 'status', ...args], { cwd: f.repo, env: env() });

/** Starts `host`'s apply in the background; returns once it says it waits for `upstream` (or exited). */
async function applyUntilWaiting(f: ReturnType<typeof fleet>, host: string, upstream: string): Promise<{ stderr: string; exited: Promise<number> }> {
  const child = spawn(process.execPath, [BIN, 'apply', path.join(f.repo, 'hosts', `${host}.yaml`), '--root', f.root(host), '--yes'], { env: { ...process.env, NO_COLOR: '1', ...env() } });
  let stderr = '';
  const waiting = new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => ((stderr += d.toString()), stderr.includes(`waits for ${upstream}`) && resolve())));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  await Promise.race([waiting, exited]);
  return { stderr, exited };
}

function journal(root: string): { at: string; event: string; status?: string }[] {
  const base = path.join(root, 'var/lib/reconcile/journal');
  const [only] = readdirSync(base);
  return readFileSync(path.join(base, only!, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { at: string; event: string });
}

async function stored(f: ReturnType<typeof fleet>, host: string): Promise<Record<string, unknown>> {
  return JSON.parse((await client.hget(fleetKeys(f.name).status(host), 'record')) ?? 'null') as Record<string, unknown>;
}

/** Pretends the fleet has been reporting for hours and `host` went silent 2 h ago (time itself cannot be waited for). */
async function age(f: ReturnType<typeof fleet>, host?: string) {
  const k = fleetKeys(f.name);
  const hours = Date.now() - 3 * 3600_000;
  await client.set(k.epoch, String(hours));
  if (host) await client.multi().hset(k.status(host), 'at', String(Date.now() - 2 * 3600_000)).zadd(k.seen, Date.now() - 2 * 3600_000, host).exec();
}

describeNeeding({ commands: { 'redis-server': 'redis-server' } }, 'after: between two hosts of one fleet, one Redis', () => {
  it("orders the standby's restart after the primary's apply: the standby started first waits, then runs its steps after the primary converged (journal times)", async () => {
    const f = fleet('hosts:\n  db1: {address: 10.9.0.1/24}\n  db2: {address: 10.9.0.2/24, after: [db1]}\n', { db1: unit('postgresql.service'), db2: unit('postgresql.service') });
    const { stderr, exited } = await applyUntilWaiting(f, 'db2', 'db1');
    expect(stderr).toContain('db2 waits for db1 to converge at this commit (after: in fleet.yaml)');
    expect(existsSync(path.join(f.root('db2'), 'etc/systemd/system/postgresql.service'))).toBe(false);

    const primary = await apply(f, 'db1');
    expect(primary.exitCode).toBe(0);
    expect(await exited).toBe(0);
    const primaryEnd = journal(f.root('db1')).find((e) => e.event === 'end')!.at;
    const standbySteps = journal(f.root('db2')).filter((e) => e.event === 'step');
    expect(standbySteps.map((s) => s.status)).toContain('done');
    for (const s of standbySteps) expect(s.at >= primaryEnd).toBe(true);
    expect(readFileSync(path.join(f.root('db2'), 'etc/systemd/system/postgresql.service'), 'utf8')).toContain('ExecStart=/bin/true');
    expect(await stored(f, 'db2')).toMatchObject({ result: 'converged', source: 'apply' });
  }, 60_000);

  it('a silent upstream ends the waiter with exit 1 after afterTimeout, changing nothing, reported as blocked: after db1; fleet unblock lets it go once', async () => {
    const f = fleet('hosts:\n  db1: {address: 10.9.0.1/24}\n  db2: {address: 10.9.0.2/24, after: [db1]}\ndefaults: {rollout: {afterTimeout: 1s}}\n', { db1: unit('postgresql.service'), db2: unit('postgresql.service') });
    const r = await apply(f, 'db2');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('blocked: after db1');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(path.join(f.root('db2'), 'etc/systemd/system/postgresql.service'))).toBe(false);
    expect(await stored(f, 'db2')).toMatchObject({ result: 'blocked', blockedBy: 'after db1', exit: 1 });
    const s = await status(f);
    expect(s.exitCode).toBe(2);
    expect(s.stdout).toContain('db2: blocked: after db1');

    expect((await runCli(['fleet', 'unblock', 'db2'], { cwd: f.repo, env: env() })).exitCode).toBe(1); // --reason is required
    const u = await runCli(['fleet', 'unblock', 'db2', '--reason', 'db1 is being rebuilt'], { cwd: f.repo, env: env() });
    expect(u.exitCode).toBe(0);
    expect((await apply(f, 'db2')).exitCode).toBe(0);
    const events = (await client.xrange(fleetKeys(f.name).events, '-', '+')).map(([, fields]) => Object.fromEntries(fields.flatMap((_, i, a) => (i % 2 ? [] : [[a[i], a[i + 1]]]))) as Record<string, string>);
    expect(events.map((e) => `${e.type} ${e.host}`)).toEqual(['unblock db2', 'unblock-used db2']);
    expect(events[0]).toMatchObject({ reason: 'db1 is being rebuilt' });
    expect(events[0]!.who).toMatch(/@/);
    // Once: the key is consumed.
    expect(await client.exists(fleetKeys(f.name).unblock('db2'))).toBe(0);
  }, 60_000);
});

describeNeeding({ commands: { 'redis-server': 'redis-server', git: 'git' } }, 'after: across commits', () => {
  it('an upstream that converged at a newer commit does not hold back a host at an older one; one that converged at an older commit does', async () => {
    const f = fleet('hosts:\n  db1: {address: 10.9.0.1/24}\n  db2: {address: 10.9.0.2/24, after: [db1]}\ndefaults: {rollout: {afterTimeout: 1s}}\n', { db1: unit('postgresql.service'), db2: unit('postgresql.service') });
    const { git, first: one } = gitRepo(f);
    writeFileSync(path.join(f.repo, 'hosts/db1.yaml'), `host: db1\n${unit('postgresql.service', '/bin/false')}`);
    git('commit', '-qam', 'two: db1 changes');
    expect((await apply(f, 'db1')).exitCode).toBe(0); // db1 converged at two
    git('checkout', '-q', one);
    const older = await apply(f, 'db2'); // db2 at one: db1's spec there differs, but db1 is ahead
    expect(older.stderr).not.toContain('blocked');
    expect(older.exitCode).toBe(0);

    git('checkout', '-q', 'main');
    writeFileSync(path.join(f.repo, 'hosts/db1.yaml'), `host: db1\n${unit('postgresql.service', '/bin/sh')}`);
    writeFileSync(path.join(f.repo, 'hosts/db2.yaml'), `host: db2\n${unit('postgresql.service', '/bin/sh')}`);
    git('commit', '-qam', 'three: both change');
    const newer = await apply(f, 'db2'); // db1 converged at two, an ancestor of three: it has pending changes here
    expect(newer.stderr).toContain('blocked: after db1');
    expect(newer.exitCode).toBe(1);
  }, 60_000);
});

/** The entries of the newest apply's journal under `root` (directories are named by their start time). */
function lastJournal(root: string): { at: string; event: string; status?: string; title?: string }[] {
  const base = path.join(root, 'var/lib/reconcile/journal');
  const last = readdirSync(base).sort().at(-1)!;
  return readFileSync(path.join(base, last, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { at: string; event: string });
}

describeNeeding({ commands: { 'redis-server': 'redis-server' } }, 'removals run in reverse: two hosts of one fleet, one Redis', () => {
  const EXPORT = 'exports:\n  - path: /data/share\n    clients: [{host: 10.9.1.2, options: [rw, sync, no_subtree_check]}]\n';
  const MOUNT = (state: string) => `mounts:\n  - {path: /mnt/share, source: "10.9.1.1:/data/share", type: nfs, options: [nfsvers=4.2, hard], state: ${state}}\n`;
  const EXPORTS_LINE = /^\/data\/share\s+10\.9\.1\.2\(rw,sync,no_subtree_check\)$/m;

  /** Both hosts converged at the first state of the repository: nfs1 exports to web1, web1 has the mount in its fstab. */
  async function converged(extra = '', nextServer = 'host: nfs1\n') {
    const f = fleet(`hosts:\n  nfs1: {address: 10.9.1.1/24}\n  web1: {address: 10.9.1.2/24}\n${extra}`, { nfs1: EXPORT, web1: MOUNT('present') });
    mkdirSync(path.join(f.root('nfs1'), 'data/share'), { recursive: true });
    expect((await apply(f, 'nfs1')).exitCode).toBe(0);
    expect((await apply(f, 'web1')).exitCode).toBe(0); // its mount runs after the export: nfs1 converged, no wait
    expect(readFileSync(path.join(f.root('nfs1'), 'etc/exports'), 'utf8')).toMatch(EXPORTS_LINE);
    // The next state: the export goes, and web1 stops mounting it.
    writeFileSync(path.join(f.repo, 'hosts/nfs1.yaml'), nextServer);
    writeFileSync(path.join(f.repo, 'hosts/web1.yaml'), `host: web1\n${MOUNT('absent')}`);
    return f;
  }

  it("the server's export removal waits until the client applied its spec that no longer mounts it (journal times)", async () => {
    const f = await converged();
    const { stderr, exited } = await applyUntilWaiting(f, 'nfs1', 'web1');
    expect(stderr).toContain('nfs1 waits for web1 to converge at this commit (exports[/data/share] is removed: web1 stops using it first)');
    // Nothing removed yet: the export is still there while web1 has the mount in its fstab.
    expect(readFileSync(path.join(f.root('nfs1'), 'etc/exports'), 'utf8')).toMatch(EXPORTS_LINE);

    const client = await apply(f, 'web1');
    expect(client.exitCode).toBe(0);
    expect(client.stderr).not.toContain('waits for');
    expect(await exited).toBe(0);
    expect(readFileSync(path.join(f.root('web1'), 'etc/fstab'), 'utf8')).not.toContain('/mnt/share');
    expect(readFileSync(path.join(f.root('nfs1'), 'etc/exports'), 'utf8')).not.toMatch(/\/data\/share/);
    const clientEnd = lastJournal(f.root('web1')).find((e) => e.event === 'end')!.at;
    const serverSteps = lastJournal(f.root('nfs1')).filter((e) => e.event === 'step');
    expect(serverSteps.map((s) => s.title)).toContain('write /etc/exports');
    for (const s of serverSteps) expect(s.at >= clientEnd).toBe(true);
    expect(await stored(f, 'nfs1')).toMatchObject({ result: 'converged' });
  }, 60_000);

  it('a client removed from an export the server keeps: the same order, the export rewritten without it only after', async () => {
    const f = await converged('', 'host: nfs1\nexports:\n  - path: /data/share\n    clients: [{host: 10.9.1.9, options: [rw, sync, no_subtree_check]}]\n');
    const { stderr, exited } = await applyUntilWaiting(f, 'nfs1', 'web1');
    expect(stderr).toContain('nfs1 waits for web1 to converge at this commit (exports[/data/share] loses client 10.9.1.2: web1 stops using it first)');
    expect(readFileSync(path.join(f.root('nfs1'), 'etc/exports'), 'utf8')).toMatch(EXPORTS_LINE);
    expect((await apply(f, 'web1')).exitCode).toBe(0);
    expect(await exited).toBe(0);
    expect(readFileSync(path.join(f.root('nfs1'), 'etc/exports'), 'utf8')).toMatch(/^\/data\/share\s+10\.9\.1\.9\(rw,sync,no_subtree_check\)$/m);
    const clientEnd = lastJournal(f.root('web1')).find((e) => e.event === 'end')!.at;
    for (const s of lastJournal(f.root('nfs1')).filter((e) => e.event === 'step')) expect(s.at >= clientEnd).toBe(true);
  }, 60_000);

  it('a client that never applies: the server times out with exit 1, blocked: after web1, the export untouched', async () => {
    const f = await converged('defaults: {rollout: {afterTimeout: 1s}}\n');
    const r = await apply(f, 'nfs1');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('blocked: after web1');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(readFileSync(path.join(f.root('nfs1'), 'etc/exports'), 'utf8')).toMatch(EXPORTS_LINE);
    expect(await stored(f, 'nfs1')).toMatchObject({ result: 'blocked', blockedBy: 'after web1', exit: 1 });
  }, 60_000);
});

describeNeeding({ commands: { 'redis-server': 'redis-server' } }, 'fleet status with a real Redis', () => {
  const hostsYaml =
    'hosts:\n' +
    '  ok1: {address: 10.8.0.1/24, groups: [g-ok, g-silent, g-failed, g-behind]}\n' +
    '  silent1: {address: 10.8.0.2/24, groups: [g-silent]}\n' +
    '  fail1: {address: 10.8.0.3/24, groups: [g-failed]}\n' +
    '  old1: {address: 10.8.0.4/24, groups: [g-behind]}\n' +
    'groups: {g-ok: {}, g-silent: {}, g-failed: {}, g-behind: {}}\n';
  let f: ReturnType<typeof fleet>;
  let results: Record<string, CliResult>;

  beforeAll(async () => {
    f = fleet(hostsYaml, { ok1: unit('a.service'), silent1: unit('a.service'), fail1: unit('a.service'), old1: unit('a.service') });
    // fail1's unit directory is a file: its write step fails.
    mkdirSync(path.join(f.root('fail1'), 'etc/systemd'), { recursive: true });
    writeFileSync(path.join(f.root('fail1'), 'etc/systemd/system'), 'not a directory\n');
    results = {};
    for (const h of ['ok1', 'silent1', 'fail1', 'old1']) results[h] = await apply(f, h);
    // old1's spec moves on in the repository after it converged: it is behind HEAD.
    writeFileSync(path.join(f.repo, 'hosts/old1.yaml'), `host: old1\n${unit('a.service', '/bin/false')}`);
    await age(f, 'silent1');
  }, 120_000);

  it('the hosts reported what their applies did', async () => {
    expect(Object.fromEntries(Object.entries(results).map(([h, r]) => [h, r.exitCode]))).toEqual({ ok1: 0, silent1: 0, fail1: 1, old1: 0 });
    expect(await stored(f, 'fail1')).toMatchObject({ result: 'failed', exit: 1, lastConverged: null });
    expect(((await stored(f, 'fail1')).error as string).length).toBeGreaterThan(0);
    expect(await client.zscore(fleetKeys(f.name).seen, 'ok1')).not.toBeNull();
  });

  it('a healthy group: exit 0, nothing needs attention', async () => {
    const r = await status(f, '--group', 'g-ok');
    expect(r.stdout).toContain('nothing needs attention');
    expect(r.exitCode).toBe(0);
  });

  it.each([
    ['g-silent', 'silent1: silent since'],
    ['g-failed', 'fail1: failed at'],
    ['g-behind', 'old1: last converged at'],
  ])('%s: exit 2, naming the host', async (group, line) => {
    const r = await status(f, '--group', group);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toContain(line);
    expect(r.stdout).not.toContain('ok1:');
  });

  it('--limit selects as everywhere (with --group too): a healthy selection exits 0', async () => {
    const ok = await status(f, '--limit', 'ok1,old1', '--limit', '!old1');
    expect(ok.stdout).toMatch(/^fleet \S+: 1 hosts, 1 reported, 1 converged\nnothing needs attention\n$/);
    expect(ok.exitCode).toBe(0);
    const sick = await status(f, '--group', 'g-failed', '--limit', 'f*');
    expect(sick.stdout).toContain('fail1: failed at');
    expect(sick.stdout).not.toContain('ok1');
    expect(sick.exitCode).toBe(2);
    const bad = await status(f, '--limit', 'nosuch');
    expect(bad.exitCode).toBe(1);
  });

  it('the whole fleet in JSON carries formatVersion and every attention', async () => {
    const r = await status(f, '--format', 'json');
    expect(r.exitCode).toBe(2);
    expect(schemaProblems('fleet-status.schema.json', r.stdout)).toEqual([]);
    const v = JSON.parse(r.stdout) as { formatVersion: number; incompleteSince: number | null; hosts: { host: string; attention: string[] }[] };
    expect(v.formatVersion).toBe(1);
    expect(v.incompleteSince).toBeNull();
    expect(Object.fromEntries(v.hosts.map((h) => [h.host, h.attention]))).toEqual({ ok1: [], silent1: ['stale'], fail1: ['failed', 'behind'], old1: ['behind'] });
  });

  it('prom output parses line by line, with a hostile host name in Redis escaped; fleet forget removes exactly that host', async () => {
    const k = fleetKeys(f.name);
    const evil = 'evil"} 1\nreconcile_host_failed{host="x';
    await client.multi().hset(k.status(evil), { record: JSON.stringify({ host: evil, result: 'converged', version: '0.1.0', drift: 0, commit: null, interval: 900, pending: [], pendingCount: 0, lastConverged: null }), at: String(Date.now()), machineId: 'm' }).zadd(k.seen, Date.now(), evil).exec();
    await client.multi().hset(k.status('*'), { record: '{not json', at: '1' }).zadd(k.seen, 1, '*').exec();
    const r = await status(f, '--format', 'prom');
    expect(r.exitCode).toBe(2);
    const sample = /^[a-z_]+\{(?:[a-z_]+="(?:[^"\\\n]|\\["\\n])*"(?:,|(?=\})))+\} -?\d+(\.\d+)?$/;
    for (const line of r.stdout.trimEnd().split('\n')) expect(line.startsWith('# HELP ') || line.startsWith('# TYPE ') || sample.test(line), line).toBe(true);
    expect(r.stdout).toContain('reconcile_host_last_report_timestamp_seconds{host="ok1"}');
    expect(r.stdout).toMatch(/^reconcile_host_failed\{host="fail1"\} 1$/m);
    expect(r.stdout).toMatch(/^reconcile_host_behind\{host="old1"\} 1$/m);
    expect(r.stdout).toMatch(/^reconcile_host_info\{host="ok1",commit="",version="\d+\.\d+\.\d+"\} 1$/m);
    expect(r.stdout).toContain('host="evil\\"} 1\\nreconcile_host_failed{host=\\"x"');
    const text = await status(f);
    expect(text.stdout).toContain(`${JSON.stringify(evil)}: reports status but is not a host of fleet.yaml`);
    expect(text.stdout).toContain('"*": its status key holds not a status record');

    const before = await client.keys(`reconcile:${f.name}:status:*`);
    const forget = await runCli(['fleet', 'forget', '*', '--reason', 'forged'], { cwd: f.repo, env: env() });
    expect(forget.exitCode).toBe(0);
    const after = await client.keys(`reconcile:${f.name}:status:*`);
    expect(before.filter((x) => !after.includes(x))).toEqual([k.status('*')]);
    expect((await runCli(['fleet', 'forget', evil, '--reason', 'forged'], { cwd: f.repo, env: env() })).exitCode).toBe(0);
    expect(await client.zscore(k.seen, evil)).toBeNull();
    expect((await status(f)).stdout).not.toContain('evil');
  });
});

describeNeeding({ commands: { 'redis-server': 'redis-server' } }, 'the status record', () => {
  it('an error quoting a secret is stored redacted and cut to 512 characters; a broken Redis is a warning, not a failure', async () => {
    const f = fleet('hosts:\n  app1: {address: 10.7.0.1/24}\n', { app1: unit('a.service') });
    const secret = 'hunter2-fleet-status-secret';
    registerSecret(secret);
    process.env.FLEET_REDIS_URL = redis.url;
    const warnings: string[] = [];
    const run = fleetRunFor(path.join(f.repo, 'hosts/app1.yaml'), { root: f.root('app1'), warn: (m) => warnings.push(m) })!;
    await run.report({ source: 'apply', result: 'failed', exit: 1, commit: null, pending: [], error: `connect to postgres://app:${secret}@db1 failed ${'x'.repeat(2000)}` });
    const raw = JSON.stringify(await client.hgetall(fleetKeys(f.name).status('app1')));
    expect(raw).not.toContain(secret);
    const rec = await stored(f, 'app1');
    expect(rec.error).toMatch(/^connect to postgres:\/\/app:<redacted>@db1 failed x+…$/);
    expect((rec.error as string).length).toBe(512);
    expect(warnings).toEqual([]);

    process.env.FLEET_REDIS_URL = 'redis://127.0.0.1:1';
    const offline = fleetRunFor(path.join(f.repo, 'hosts/app1.yaml'), { root: f.root('app1'), warn: (m) => warnings.push(m) })!;
    expect(await offline.report({ source: 'apply', result: 'converged', exit: 0, commit: null, pending: [] })).toBeUndefined();
    expect(warnings.join('\n')).toMatch(/warning: the fleet status of app1 was not written: cannot reach Redis at 127\.0\.0\.1:1/);
    delete process.env.FLEET_REDIS_URL;
  });
});

describeNeeding({ commands: { 'redis-server': 'redis-server', git: 'git' } }, 'drift and pull report status too', () => {
  it('drift on a fleet host: its unacknowledged drift is in its status and fleet status asks for attention', async () => {
    const f = fleet('hosts:\n  web1: {address: 10.6.0.1/24}\n', { web1: unit('a.service') });
    expect((await apply(f, 'web1')).exitCode).toBe(0);
    writeFileSync(path.join(f.root('web1'), 'etc/systemd/system/a.service'), '[Service]\nExecStart=/bin/sh\n');
    const d = await runCli(['drift', path.join(f.repo, 'hosts/web1.yaml'), '--root', f.root('web1'), '--format', 'json'], { env: env() });
    expect(d.exitCode).toBe(2);
    expect(await stored(f, 'web1')).toMatchObject({ source: 'drift', result: 'pending', drift: 1, pending: ['units[a.service]'], pendingCount: 1, worstRisk: 'restart' });
    const s = await status(f);
    expect(s.exitCode).toBe(2);
    expect(s.stdout).toContain('web1: 1 unacknowledged drift: units[a.service]');
  }, 60_000);

  it('pull --apply reports with source pull and the commit it applied; a plan-only pull after a new commit reports pending', async () => {
    const f = fleet('hosts:\n  web1: {address: 10.6.0.1/24}\n', { web1: unit('a.service') });
    const { git, first } = gitRepo(f);
    const pull = (...more: string[]) => runCli(['pull', f.repo, '--root', f.root('web1'), '--host', 'web1', ...more], { env: env() });
    // --every as the pull unit passes it: the host's own interval, by which fleet status judges it stale.
    expect((await pull('--apply', '--every', '1h')).exitCode).toBe(0);
    expect(await stored(f, 'web1')).toMatchObject({ source: 'pull', result: 'converged', commit: first, lastConverged: { commit: first }, interval: 3600 });
    writeFileSync(path.join(f.repo, 'hosts/web1.yaml'), `host: web1\n${unit('a.service', '/bin/false')}`);
    git('commit', '-qam', 'two');
    expect((await pull()).exitCode).toBe(2);
    // A run without --every (by hand) keeps the host's own interval, not the 15-minute default.
    expect(await stored(f, 'web1')).toMatchObject({ source: 'pull', result: 'pending', commit: git('rev-parse', 'HEAD'), lastConverged: { commit: first }, pending: ['units[a.service]'], interval: 3600 });
    expect((await apply(f, 'web1')).exitCode).toBe(0);
    expect(await stored(f, 'web1')).toMatchObject({ source: 'apply', result: 'converged', interval: 3600 });
    // A bad --every changes nothing and says why, one line, exit 1.
    for (const bad of ['15m; rm -rf /', '0', '-5m', '200h', '15m\nOnCalendar=minutely']) {
      const r = await pull('--every', bad);
      expect(r.exitCode, bad).toBe(1);
      expect(r.stderr.trim().split('\n'), bad).toHaveLength(1);
      expect(r.stderr, bad).toMatch(/^reconcile pull: --every /);
    }
  }, 60_000);
});

describeNeeding({ commands: { 'redis-server': 'redis-server' } }, 'fleet commands on bad input: one line, exit 1, no stack', () => {
  it.each([
    ['minVersion that is not a version', 'minVersion: banana\n', ['validate', '--fleet'], 'fleet.yaml:5:13: minVersion: "banana" is not a reconcile version such as 0.4.0'],
    ['minVersion as a list', 'minVersion: [1]\n', ['validate', '--fleet'], 'fleet.yaml:5:13: minVersion: expected string, got a list'],
    ['an unknown group', '', ['fleet', 'status', '--group', '../*'], 'reconcile fleet status: no group "../*" in fleet.yaml'],
    ['unblock of a host not in the fleet', '', ['fleet', 'unblock', 'x:events', '--reason', 'r'], 'reconcile fleet unblock: no host "x:events" in fleet.yaml'],
    ['an unknown subcommand', '', ['fleet', 'stauts'], 'reconcile fleet: unknown subcommand "stauts" (see reconcile fleet --help)'],
    ['a format that does not exist', '', ['fleet', 'status', '--format', 'xml'], 'reconcile fleet status: --format must be one of text, json, prom, not "xml"'],
  ])('%s', async (_name, extra, argv, message) => {
    const f = fleet(`hosts:\n  web1: {address: 10.5.0.1/24}\n${extra}`, { web1: unit('a.service') });
    const r = await runCli(argv, { cwd: f.repo, env: env() });
    expect(r.stderr.trim()).toBe(message);
    expect(r.exitCode).toBe(1);
  });

  it('a fleet without redis: says where', async () => {
    const f = fleet('hosts:\n  web1: {address: 10.5.0.1/24}\n', { web1: unit('a.service') });
    writeFileSync(path.join(f.repo, 'fleet.yaml'), `name: ${f.name}\nhosts:\n  web1: {address: 10.5.0.1/24}\n`);
    const r = await runCli(['fleet', 'status'], { cwd: f.repo, env: env() });
    expect(r.stderr.trim()).toBe("fleet.yaml:1:1: the fleet has no redis: (status lives in the fleet's Redis)");
    expect(r.exitCode).toBe(1);
  });
});

describeNeeding({ commands: { 'redis-server': 'redis-server' } }, 'what a status write costs Redis', () => {
  it('a converged fleet host apply: its whole Redis conversation, counted by INFO commandstats, is 10 commands (ready check, 2 round trips, QUIT)', async () => {
    const f = fleet('hosts:\n  web1: {address: 10.4.0.1/24}\n', { web1: unit('a.service') });
    expect((await apply(f, 'web1')).exitCode).toBe(0);
    await client.config('RESETSTAT');
    expect((await apply(f, 'web1')).exitCode).toBe(0);
    const stats = String(await client.info('commandstats'));
    const calls = [...stats.matchAll(/^cmdstat_(\w+(?:\|\w+)?):calls=(\d+)/gm)].map(([, name, n]) => [name!, Number(n)] as const);
    // The reply of our own INFO does not count itself; our CONFIG RESETSTAT does.
    const total = calls.filter(([name]) => name !== 'config|resetstat').reduce((a, [, n]) => a + n, 0);
    expect(Object.fromEntries(calls)).toMatchObject({ time: 1, hmget: 1, hset: 1, zadd: 1, publish: 1 });
    expect(total, JSON.stringify(calls)).toBeLessThanOrEqual(10);
    if (process.env.SHOW_REDIS_CALLS) process.stderr.write(`redis calls: ${total} ${JSON.stringify(calls)}\n`);
  }, 60_000);
});
