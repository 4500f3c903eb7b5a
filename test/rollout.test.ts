/**
 * Rollouts (DESIGN §8.4) with a real redis-server and many hosts of one fleet, each a `--root`
 * tree applied by the real CLI in its own process. Concurrency is read from the hosts' journals
 * (the Redis time each slot was taken and given back), never from the slots' own bookkeeping.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GroupSlots, groupKeys, keyPart } from '../src/locks/slots.js';
import { BIN, runCli, type CliResult } from './helpers/cli.js';
import { sleep, useRedis } from './helpers/locks.js';
import { HOSTILE_VALUES } from './helpers/hostile.js';
import { journalAt, maxOverlap, slotIntervals, type JournalEntry } from './helpers/journal.js';
import { schemaProblems } from './helpers/schema.js';

const redis = useRedis();
const dirs: string[] = [];
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const UNIT = '[Service]\nExecStart=/bin/sleep infinity\n';

interface Fleet {
  dir: string;
  name: string;
  spec(host: string): string;
  root(host: string): string;
}

let fleets = 0;
/** A committed fleet repository: hosts with their groups, each host a unit to create (risk reload) and its own empty root. */
function makeFleet(groups: Record<string, Record<string, unknown>>, hosts: Record<string, string[]>, opts: { ttl?: string } = {}): Fleet {
  const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-rollout-'));
  dirs.push(dir);
  const name = `roll${process.pid}-${++fleets}`;
  const repo = path.join(dir, 'repo');
  mkdirSync(path.join(repo, 'hosts'), { recursive: true });
  const lines = [`name: ${name}`, 'hosts:'];
  Object.entries(hosts).forEach(([h, gs], i) => lines.push(`  ${h}: {address: 127.0.1.${i + 1}, groups: [${gs.join(', ')}]}`));
  lines.push('groups:');
  for (const [g, rollout] of Object.entries(groups)) lines.push(`  ${g}: {rollout: ${JSON.stringify(rollout)}}`);
  lines.push('redis: {env: FLEET_REDIS_URL}');
  writeFileSync(path.join(repo, 'fleet.yaml'), `${lines.join('\n')}\n`);
  for (const h of Object.keys(hosts)) {
    const content = UNIT.replace(/^/gm, '      ').trimEnd();
    writeFileSync(path.join(repo, 'hosts', `${h}.yaml`), `host: ${h}\nlock: {ttl: ${opts.ttl ?? '3s'}}\nunits:\n  - name: app.service\n    content: |\n${content}\n    state: running\n`);
    mkdirSync(path.join(dir, 'roots', h), { recursive: true });
  }
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...args], { cwd: repo, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'fleet');
  return { dir, name, spec: (h) => path.join(repo, 'hosts', `${h}.yaml`), root: (h) => path.join(dir, 'roots', h) };
}

const env = (url = redis.server.url) => ({ FLEET_REDIS_URL: url });
const apply = (f: Fleet, h: string, extra: string[] = [], url?: string): Promise<CliResult> => runCli(['apply', f.spec(h), '--root', f.root(h), '--yes', ...extra], { env: env(url), timeoutMs: 240_000 });
const fleetCli = (f: Fleet, args: string[]): Promise<CliResult> => runCli(['fleet', ...args, '--fleet', path.join(f.dir, 'repo')], { env: env() });

/** An apply in the background, so a test can SIGKILL it. */
function spawnApply(f: Fleet, h: string): ChildProcess {
  const c = spawn(process.execPath, [BIN, 'apply', f.spec(h), '--root', f.root(h), '--yes'], { env: { ...process.env, NO_COLOR: '1', ...env() }, stdio: 'ignore' });
  children.add(c);
  c.on('exit', () => children.delete(c));
  return c;
}

type Entry = JournalEntry;
const journal = (f: Fleet, h: string): Entry[] => journalAt(f.root(h));
const intervals = (f: Fleet, hosts: string[], group: string) => slotIntervals(f.root, hosts, group);

const slots = (f: Fleet, group: string) => new GroupSlots(redis.raw, f.name, group);

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const hostsNamed = (n: number) => Array.from({ length: n }, (_, i) => `h${String(i + 1).padStart(2, '0')}`);
const unitWritten = (f: Fleet, h: string) => existsSync(path.join(f.root(h), 'etc/systemd/system/app.service'));

describe('rollout slots across hosts of one fleet', () => {
  it('30 concurrent applies in a group with maxParallel 3: never more than 3 hold slots at once (from the journals)', async () => {
    const hosts = hostsNamed(30);
    const f = makeFleet({ web: { maxParallel: 3, maxFailures: 3, gate: 'reload', wait: '4m' } }, Object.fromEntries(hosts.map((h) => [h, ['web']])));
    const results = await Promise.all(hosts.map((h) => apply(f, h)));
    for (const [i, r] of results.entries()) expect({ host: hosts[i], code: r.exitCode, err: r.stderr }).toEqual({ host: hosts[i], code: 0, err: '' });
    const iv = intervals(f, hosts, 'web');
    expect(iv).toHaveLength(30);
    expect(iv.every((i) => Number.isFinite(i.to) && i.to >= i.from)).toBe(true);
    expect(maxOverlap(iv)).toBeLessThanOrEqual(3);
    // The limit was actually reached: some hosts queued.
    const queued = hosts.flatMap((h) => journal(f, h).filter((e) => e.slot === 'taken' && Number(e.queued) > 0));
    expect(queued.length).toBeGreaterThan(0);
    for (const h of hosts) expect(unitWritten(f, h)).toBe(true);
    const st = await slots(f, 'web').inspect();
    expect({ slots: st.slots, queue: st.queue, halted: st.halted }).toEqual({ slots: [], queue: [], halted: false });
    // A converged host plans nothing and takes no slot.
    const again = await apply(f, 'h01');
    expect(again.exitCode).toBe(0);
    expect(intervals(f, ['h01'], 'web')).toHaveLength(1);
  }, 300_000);

  it('a canary of 1 goes alone first; the rest start only after it passed', async () => {
    const hosts = hostsNamed(6);
    const f = makeFleet({ web: { maxParallel: 3, maxFailures: 3, canary: 1, gate: 'reload', wait: '2m' } }, Object.fromEntries(hosts.map((h) => [h, ['web']])));
    const results = await Promise.all(hosts.map((h) => apply(f, h)));
    expect(results.map((r) => r.exitCode)).toEqual(hosts.map(() => 0));
    const iv = intervals(f, hosts, 'web').sort((a, b) => a.from - b.from);
    expect(iv).toHaveLength(6);
    const canaries = iv.filter((i) => i.canary);
    expect(canaries).toHaveLength(1);
    expect(iv[0]!.canary).toBe(true);
    for (const other of iv.slice(1)) expect(other.from).toBeGreaterThanOrEqual(canaries[0]!.to);
  }, 180_000);

  it('a host SIGKILLed while holding a slot leaves it abandoned within its lease TTL; maxFailures 1 halts the group until fleet resume', async () => {
    // h1 takes its slot in aa, then waits in the paused group pp: a real process holding a slot.
    const f = makeFleet(
      { aa: { maxParallel: 2, maxFailures: 1, gate: 'reload', wait: '1s' }, pp: { maxParallel: 1, gate: 'reload', wait: '5m' } },
      { h1: ['aa', 'pp'], h2: ['aa'] },
      { ttl: '1500ms' },
    );
    expect(await fleetCli(f, ['pause', 'pp', '--reason', 'hold h1 in its aa slot'])).toMatchObject({ exitCode: 0, stderr: '' });
    const h1 = spawnApply(f, 'h1');
    await until('h1 to wait in pp', async () => ((await slots(f, 'pp').inspect()).queue.includes('h1') ? true : undefined), 60_000);
    const held = (await slots(f, 'aa').inspect()).slots;
    expect(held.map((s) => [s.host, s.phase])).toEqual([['h1', 'converging']]);
    const exited = new Promise((r) => h1.once('exit', r));
    h1.kill('SIGKILL');
    await exited;
    // The lease (1.5 s) runs out without a keep-alive: abandoned, counted as failed, the group halts.
    const st = await until('the slot to be abandoned', async () => {
      const s = await slots(f, 'aa').inspect();
      return s.slots[0]?.phase === 'abandoned' ? s : undefined;
    }, 3_000);
    expect(st.halted).toBe(true);
    expect(st.haltReason).toContain('maxFailures 1');
    expect(unitWritten(f, 'h1')).toBe(false);

    // fleet status shows the group: its limit, the abandoned holder, the halt; exit 2 (attention).
    const status = await fleetCli(f, ['status', '--group', 'aa']);
    expect(status.exitCode).toBe(2);
    expect(status.stdout).toContain('rollout group aa: 1/2 slots held: h1 (abandoned); queue empty');
    expect(status.stdout).toMatch(/ {2}halted: .*maxFailures 1.* \(until fleet resume aa --reason TEXT\)/);
    expect(status.stdout).toContain('  abandoned (holder died): h1');
    const statusJson = JSON.parse((await fleetCli(f, ['status', '--group', 'aa', '--format', 'json'])).stdout);
    expect(schemaProblems('fleet-status.schema.json', JSON.stringify(statusJson))).toEqual([]);
    expect(statusJson).toMatchObject({ attention: true, rollouts: [{ group: 'aa', limit: 2, halted: true, abandoned: ['h1'], holders: [{ host: 'h1', phase: 'abandoned' }] }] });
    const prom = (await fleetCli(f, ['status', '--group', 'aa', '--format', 'prom'])).stdout;
    expect(prom).toContain('reconcile_rollout_halted{group="aa"} 1');
    expect(prom).toContain('reconcile_rollout_slots{group="aa",phase="abandoned"} 1');
    expect(prom).toContain('reconcile_rollout_slots{group="aa",phase="converging"} 0');
    expect(prom).toContain('reconcile_rollout_queue{group="aa"} 0');

    const refused = await apply(f, 'h2');
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/^reconcile: deferred, queued #1 in rollout group aa \(halted: 1 failed or abandoned slot\(s\), maxFailures 1\); nothing was changed\n$/);
    expect(unitWritten(f, 'h2')).toBe(false);
    const json = await apply(f, 'h2', ['--format', 'json']);
    expect(json.exitCode).toBe(2);
    // --format json is the event stream: every line valid, the last one carries the deferral.
    const lines = json.stdout.trim().split('\n');
    for (const line of lines) expect(schemaProblems('apply-events.schema.json', line), line).toEqual([]);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ type: 'apply_done', ok: false, deferred: { group: 'aa', position: 1, why: 'halted' } });

    const resume = await fleetCli(f, ['resume', 'aa', '--reason', 'h1 was rebooted']);
    expect(resume).toMatchObject({ exitCode: 0, stdout: 'group aa: resumed: pause and halt lifted, failed and abandoned slots forgotten\n' });
    expect((await apply(f, 'h2')).exitCode).toBe(0);
    expect(unitWritten(f, 'h2')).toBe(true);

    const events = (await redis.raw.xrange(`reconcile:${f.name}:events`, '-', '+')).map(([, kv]) => Object.fromEntries(kv.reduce<string[][]>((a, v, i) => (i % 2 ? a[a.length - 1]!.push(v) : a.push([v]), a), [])));
    const types = events.map((e) => `${e.type} ${e.group} ${e.host}`);
    expect(types).toEqual(expect.arrayContaining(['pause pp ', 'grant aa h1', 'abandoned aa h1', 'halted aa ', 'resume aa ', 'grant aa h2', 'given back aa h2']));
    const resumed = events.find((e) => e.type === 'resume')!;
    expect(resumed.reason).toBe('h1 was rebooted');
    expect(resumed.who).toMatch(/^.+@.+$/);
    expect(resumed.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }, 120_000);

  it('a waiter past rollout.wait exits 2 "deferred, queued #n" and leaves the queue, changing nothing', async () => {
    const f = makeFleet(
      // h2 waits long enough to still be queued when h3 (started later, on a loaded machine) asks.
      { g: { maxParallel: 1, gate: 'reload', wait: '40s' }, pp: { gate: 'reload', wait: '5m' } },
      { h1: ['g', 'pp'], h2: ['g'], h3: ['g'] },
    );
    await fleetCli(f, ['pause', 'pp', '--reason', 'keep h1 holding g']);
    const h1 = spawnApply(f, 'h1');
    await until('h1 to hold g', async () => ((await slots(f, 'pp').inspect()).queue.includes('h1') ? true : undefined), 60_000);
    const second = apply(f, 'h2');
    await until('h2 to queue', async () => ((await slots(f, 'g').inspect()).queue.includes('h2') ? true : undefined), 60_000);
    // h3 is told its place behind h2 when its own (shorter) wait ends.
    writeFileSync(path.join(f.dir, 'repo', 'fleet.yaml'), readFileSync(path.join(f.dir, 'repo', 'fleet.yaml'), 'utf8').replace('"wait":"40s"', '"wait":"1s"'));
    const third = await apply(f, 'h3');
    expect(third.exitCode).toBe(2);
    expect(third.stderr).toBe('reconcile: deferred, queued #2 in rollout group g (full: 1 of 1 slot(s) taken); nothing was changed\n');
    expect((await second).stderr).toBe('reconcile: deferred, queued #1 in rollout group g (full: 1 of 1 slot(s) taken); nothing was changed\n');
    expect((await slots(f, 'g').inspect()).queue).toEqual([]);
    expect(unitWritten(f, 'h2') || unitWritten(f, 'h3')).toBe(false);
    const exited = new Promise((r) => h1.once('exit', r));
    h1.kill('SIGTERM');
    await exited;
    // Interrupted before any step: its slot in g was given back, not failed.
    expect((await slots(f, 'g').inspect()).slots).toEqual([]);
  }, 180_000);

  it('a slot lost mid-apply runs no further step and is journalled rollout-lost; the failed mark survives Redis losing its data', async () => {
    const f = makeFleet(
      { g: { maxParallel: 2, maxFailures: 1, gate: 'reload', wait: '1s' }, pp: { gate: 'reload', wait: '5m' } },
      { h1: ['g', 'pp'] },
    );
    await fleetCli(f, ['pause', 'pp', '--reason', 'hold h1']);
    const run = apply(f, 'h1');
    await until('h1 to wait in pp', async () => ((await slots(f, 'pp').inspect()).queue.includes('h1') ? true : undefined), 60_000);
    // A human takes h1's slot in g away while h1 waits for pp; then lets pp go.
    expect((await fleetCli(f, ['release', 'host:h1', '--reason', 'looked stuck'])).stdout).toBe('host h1: its slots released\n');
    await fleetCli(f, ['resume', 'pp', '--reason', 'go']);
    const r = await run;
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('rollout slot of group g');
    expect(unitWritten(f, 'h1')).toBe(false);
    const j = journal(f, 'h1');
    expect(j.filter((e) => e.event === 'rollout-lost').map((e) => e.group)).toEqual(['g']);
    expect(j.filter((e) => e.event === 'step').length).toBe(0);
    const marks = JSON.parse(readFileSync(path.join(f.root('h1'), 'var/lib/reconcile/rollout.json'), 'utf8')) as { failed: Record<string, unknown> };
    expect(Object.keys(marks.failed).sort()).toEqual(['g', 'pp']);

    // Redis loses everything: the host re-asserts its failed mark, the group halts again (fail closed).
    await redis.raw.flushall();
    const after = await apply(f, 'h1');
    expect(after.exitCode).toBe(2);
    expect(after.stderr).toContain('in rollout group g (halted');
    expect((await slots(f, 'g').inspect()).slots.map((s) => [s.host, s.phase])).toEqual([['h1', 'failed']]);

    await fleetCli(f, ['resume', 'g', '--reason', 'fixed']);
    await fleetCli(f, ['resume', 'pp', '--reason', 'fixed']);
    const ok = await apply(f, 'h1');
    expect({ code: ok.exitCode, err: ok.stderr }).toEqual({ code: 0, err: '' });
    expect(unitWritten(f, 'h1')).toBe(true);
    expect(JSON.parse(readFileSync(path.join(f.root('h1'), 'var/lib/reconcile/rollout.json'), 'utf8'))).toEqual({ formatVersion: 1, failed: {} });
  }, 180_000);

  it('Redis unreachable: a gated apply changes nothing and exits 1; below the gate, or with --no-rollout --reason, it proceeds', async () => {
    const f = makeFleet({ web: { gate: 'reload' }, calm: { gate: 'restart' } }, { h1: ['web'], h2: ['calm'], h3: ['web'] });
    const dead = 'redis://127.0.0.1:1';
    const r = await apply(f, 'h1', [], dead);
    expect(r.exitCode).toBe(1);
    // The status write fails on the same dead Redis: a warning, never the apply's error.
    expect(r.stderr).toBe('reconcile: warning: the fleet status of h1 was not written: cannot reach Redis at 127.0.0.1:1: connection refused\nrollout group web needs a slot: cannot reach Redis at 127.0.0.1:1: connection refused; nothing was changed (apply --no-rollout --reason TEXT goes ahead without one)\n');
    expect(unitWritten(f, 'h1')).toBe(false);
    expect(existsSync(path.join(f.root('h1'), 'var/lib/reconcile/journal'))).toBe(false);

    expect((await apply(f, 'h2', [], dead)).exitCode).toBe(0);
    expect(unitWritten(f, 'h2')).toBe(true);

    expect((await apply(f, 'h3', ['--no-rollout'], dead)).stderr).toContain('--no-rollout needs --reason TEXT');
    const forced = await apply(f, 'h3', ['--no-rollout', '--reason', 'Redis is down, hotfix'], dead);
    expect(forced.exitCode).toBe(0);
    expect(journal(f, 'h3').find((e) => e.event === 'rollout')).toMatchObject({ slot: 'skipped', groups: ['web'], reason: 'Redis is down, hotfix' });
  }, 120_000);
});

describe('slot keys from hostile group and host names', () => {
  const names = { ...HOSTILE_VALUES, colon: 'a:b', 'key-like': 'x:rollout:y:slots', braces: '{web}', glob: 'w*b?[c]', percent: 'a%3Ab' };
  it('each name stays inside its own keys: no two groups share a key, none leaks outside reconcile:<fleet>:', async () => {
    const fleet = `hostile:${process.pid}`;
    const seen = new Map<string, string>();
    for (const [label, group] of Object.entries(names)) {
      const k = groupKeys(fleet, group);
      expect(k.base.startsWith(`reconcile:${keyPart(fleet)}:rollout:`)).toBe(true);
      expect(k.base.slice(`reconcile:${keyPart(fleet)}:rollout:`.length)).toMatch(/^[A-Za-z0-9_.%-]*$/);
      expect(seen.get(k.base), `${label} collides`).toBeUndefined();
      seen.set(k.base, label);
    }
    // Grants under hostile group and host names: each group sees only its own slot.
    const entries = Object.entries(names).slice(0, 12);
    for (const [, name] of entries) {
      const s = new GroupSlots(redis.raw, fleet, name);
      const r = await s.grant({ host: name, commit: name, planDigest: 'p', limit: 1, maxFailures: 1, canary: 1, ttlMs: 5_000 });
      expect(r.granted).toBe(true);
    }
    for (const [, name] of entries) {
      const st = await new GroupSlots(redis.raw, fleet, name).inspect();
      expect(st.slots.map((s) => s.host)).toEqual([name]);
    }
    const keys = await redis.raw.keys('*');
    const ours = keys.filter((k) => k.startsWith(`reconcile:${keyPart(fleet)}:`));
    expect(ours.length).toBeGreaterThan(0);
    expect(keys.filter((k) => k.includes('hostile') && !k.startsWith(`reconcile:${keyPart(fleet)}:`))).toEqual([]);
  });
});

describe('fleet pause|resume|release: bad input is one line, exit 1, nothing recorded', () => {
  it('says what is wrong with the subcommand, the reason and the name', async () => {
    const f = makeFleet({ web: {} }, { web: ['web'], lone: [] });
    const run = async (args: string[]) => {
      const r = await fleetCli(f, args);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      return `${r.stderr}exit=${r.exitCode}`;
    };
    expect(await run(['stop', 'web'])).toBe('reconcile fleet: unknown subcommand "stop" (see reconcile fleet --help)\nexit=1');
    expect(await run(['pause', 'group:web'])).toBe('reconcile fleet pause: --reason TEXT is required (it is recorded)\nexit=1');
    expect(await run(['pause', 'group:web', '--reason', '  '])).toBe('reconcile fleet pause: --reason TEXT is required (it is recorded)\nexit=1');
    expect(await run(['pause', 'web', '--reason', 'x'])).toBe('reconcile fleet pause: "web" is both a group and a host: write group:web or host:web\nexit=1');
    expect(await run(['resume', 'nope:x', '--reason', 'x'])).toBe('reconcile fleet resume: "nope:x" is neither a group nor a host of the fleet\nexit=1');
    expect(await run(['release', 'host:lone', '--reason', 'x'])).toBe('reconcile fleet release: host lone is in no group, so it takes no rollout slot\nexit=1');
    expect(await run(['release', 'group:db', '--reason', 'x'])).toBe('reconcile fleet release: no group "db" in the fleet\nexit=1');
    expect(await redis.raw.exists(`reconcile:${f.name}:events`)).toBe(0);
    const ok = await fleetCli(f, ['pause', 'group:web', 'host:web', '--reason', 'maintenance window']);
    expect(ok).toMatchObject({ exitCode: 0, stdout: 'group web: grants no rollout slot until fleet resume\nhost web: gets no rollout slot until fleet resume HOST\n' });
    const st = await slots(f, 'web').inspect();
    expect({ paused: st.paused, reason: st.pausedReason, hosts: st.pausedHosts }).toEqual({ paused: true, reason: 'maintenance window', hosts: { web: 'maintenance window' } });
  }, 60_000);
});
