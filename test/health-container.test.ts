/**
 * The units part of the rollout health gate (DESIGN §8.4 rule 4) on a real systemd: a booted
 * container (test/helpers/container.ts) is a host of a fleet with a rollout group, and
 * `reconcile apply` runs INSIDE it as the host's own loop runs it. The fleet's Redis is a real
 * redis-server started in the container's private network namespace (on its loopback, so nothing
 * leaves namespaces this test made); this test reads it through a unix socket.
 * Asserts on what systemd reports (ActiveState, NRestarts), the slot and status records in Redis,
 * `fleet status` as an operator runs it on the host, the journal and exit codes.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GroupSlots } from '../src/locks/slots.js';
import { fleetKeys } from '../src/fleet/status/keys.js';
import { Container, CONTAINER_NEEDS } from './helpers/container.js';
import { describeNeeding, missing } from './helpers/prereq.js';
import { startRedis, type RedisServer } from './helpers/redis.js';

const NEEDS = { ...CONTAINER_NEEDS, commands: { ...CONTAINER_NEEDS.commands, '/usr/bin/redis-server': 'redis-server' } };
const usable = missing(NEEDS).length === 0;

const REPO = '/srv/fleet';
const FLEET = `gate${process.pid}`;
let c: Container;
let redis: RedisServer;
let raw: Redis;

beforeAll(async () => {
  if (!usable) return;
  c = await Container.boot({ name: `hg${process.pid % 100000}` });
  redis = await startRedis({ netnsOf: c.pid });
  raw = new Redis({ path: redis.socket! });
  // A group of one host: maxParallel 1, halted by one failure; the gate watches for 8 s, and a
  // timeout long enough that a unit judged only at the timeout would show in the message.
  const rollout = { maxParallel: 1, maxFailures: 1, gate: 'reload', wait: '2s', health: { stableFor: '8s', timeout: '90s' } };
  c.writeFile(`${REPO}/fleet.yaml`, `name: ${FLEET}\nhosts:\n  ${c.name}: {address: 127.0.1.1, groups: [web]}\ngroups:\n  web: {rollout: ${JSON.stringify(rollout)}}\nredis: {env: FLEET_REDIS_URL}\n`);
}, 300_000);
afterAll(async () => {
  raw?.disconnect();
  await redis?.stop();
  await c?.shutdown();
}, 60_000);

const SPEC = () => `${REPO}/hosts/${c.name}.yaml`;
const indent = (text: string, n: number) => text.replace(/^(?=.)/gm, ' '.repeat(n));
function publish(service: string) {
  c.writeFile(SPEC(), `host: ${c.name}\nlock: {ttl: 6s}\nunits:\n  - name: app.service\n    content: |\n${indent(`[Unit]\nDescription=health gate test\n[Service]\n${service}\n[Install]\nWantedBy=multi-user.target\n`, 6)}    enabled: true\n    state: running\n`);
}
const env = () => ({ FLEET_REDIS_URL: redis.url });
const apply = () => c.reconcile(['apply', SPEC(), '--yes'], { env: env(), timeoutMs: 180_000 });
const fleet = (...args: string[]) => c.reconcile(['fleet', ...args, '--fleet', REPO], { env: env() });
/** The unit's ActiveState once it is seen other than 'active', asking every 50 ms until the deadline. */
async function notActiveWithin(unit: string, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const state = (await show(unit)).ActiveState!;
    if (state !== 'active' || Date.now() > deadline) return state;
    await new Promise((r) => setTimeout(r, 50));
  }
}
const show = async (unit: string) => Object.fromEntries((await c.sh(['systemctl', 'show', '-p', 'ActiveState,SubState,NRestarts', unit])).split('\n').map((l) => l.split('=') as [string, string]));
const group = () => new GroupSlots(raw, FLEET, 'web').inspect();
async function status() {
  const hash = await raw.hgetall(fleetKeys(FLEET).status(c.name));
  return JSON.parse(hash.record!) as { result: string; exit: number; error?: string };
}

type Entry = Record<string, unknown> & { event: string };
/** The journal of the host's last apply, from inside the container. */
async function lastJournal(): Promise<Entry[]> {
  const files = (await c.sh(['find', '/var/lib/reconcile/journal', '-name', 'journal.jsonl'])).split('\n').sort();
  return c.readFile(files.at(-1)!)!.trim().split('\n').map((l) => JSON.parse(l) as Entry);
}
const rolloutEntries = (j: Entry[]) => j.filter((e) => e.event === 'rollout').map((e) => `${e.slot}${e.status ? ` ${e.status}` : ''}`);

/** The apply converged the host, the gate passed and the slot went back: in systemd, the journal and Redis. */
async function expectGatePassed(restarts: 'none' | 'any' = 'none') {
  const a = await apply();
  expect(a.stderr).toBe('');
  expect(a.exitCode).toBe(0);
  // After a crash loop, systemd's own restart may land between daemon-reload and the apply's
  // restart and count once more; the gate judged the count stable, which is what matters then.
  expect(await show('app.service')).toMatchObject({ ActiveState: 'active', SubState: 'running', ...(restarts === 'none' ? { NRestarts: '0' } : {}) });
  expect(rolloutEntries(await lastJournal())).toEqual(['taken', 'health gate passed', 'given back']);
  expect(await group()).toMatchObject({ slots: [], queue: [], halted: false });
  expect(await status()).toMatchObject({ result: 'converged', exit: 0 });
}

/** The host's slot in web is failed and the group halted (maxFailures 1). */
async function expectSlotFailed() {
  const st = await group();
  expect(st.slots.map((s) => [s.host, s.phase])).toEqual([[c.name, 'failed']]);
  expect(st.halted).toBe(true);
  expect(await status()).toMatchObject({ result: 'failed', exit: 1 });
  return st;
}

describeNeeding(NEEDS, 'the rollout health gate on a real systemd (inside a container, Redis in its network namespace)', () => {
  it('a unit that starts and stays active: the gate passes, the slot is given back, the host converges (exit 0)', async () => {
    publish('ExecStart=/bin/sleep infinity');
    await expectGatePassed();
    const events = (await raw.xrange(fleetKeys(FLEET).events, '-', '+')).map(([, kv]) => `${kv[kv.indexOf('type') + 1]} ${kv[kv.indexOf('host') + 1]}`);
    expect(events).toEqual([`grant ${c.name}`, `given back ${c.name}`]);
    // Converged: the next run plans nothing and takes no slot.
    expect((await c.reconcile(['plan', SPEC()], { env: env() })).exitCode).toBe(0);
  }, 180_000);

  it('new content that runs, then crashes and is restarted by systemd: NRestarts changes, the slot fails, the group halts (exit 1)', async () => {
    // Up long enough to pass the restart step and the re-observation; then a crash loop.
    publish('ExecStart=/bin/sh -c "sleep 5; exit 1"\nRestart=always\nRestartSec=100ms');
    const a = await apply();
    expect(a.exitCode).toBe(1);
    expect(a.stdout).toContain('systemctl restart app.service');
    expect(a.stdout + a.stderr).toMatch(/health gate: app\.service restarted while it was watched \(NRestarts 0 -> [1-9]\d*\)/);
    expect(Number((await show('app.service')).NRestarts)).toBeGreaterThan(0);
    expect(rolloutEntries(await lastJournal())).toEqual(['taken', 'health gate failed', 'failed']);

    expect((await expectSlotFailed()).haltReason).toContain('maxFailures 1');
    expect((await status()).error).toContain('app.service restarted while it was watched');
    // The host keeps its failed mark (fail closed if Redis loses its data).
    expect(Object.keys(JSON.parse(c.readFile('/var/lib/reconcile/rollout.json')!).failed)).toEqual(['web']);

    const fs = await fleet('status', '--group', 'web');
    expect(fs.exitCode).toBe(2);
    expect(fs.stdout).toContain(`rollout group web: 1/1 slots held: ${c.name} (failed)`);
    expect(fs.stdout).toMatch(/ {2}halted: .*maxFailures 1.* \(until fleet resume web --reason TEXT\)/);

    // Halted: the next apply, even of a good spec, is deferred and changes nothing.
    publish('ExecStart=/bin/sleep infinity');
    const deferred = await apply();
    expect(deferred.exitCode).toBe(2);
    expect(deferred.stderr).toMatch(/^reconcile: deferred, queued #1 in rollout group web \(halted: 1 failed or abandoned slot\(s\), maxFailures 1\); nothing was changed\n$/);
    expect(c.readFile('/etc/systemd/system/app.service')).toContain('sleep 5; exit 1');
  }, 180_000);

  it('after fleet resume, new content that exits for good: the gate fails at once (not at its timeout), naming the unit', async () => {
    expect((await fleet('resume', 'web', '--reason', 'bad build rolled back'))).toMatchObject({ exitCode: 0, stderr: '' });
    publish('ExecStart=/bin/sh -c "sleep 5; exit 7"');
    const a = await apply();
    expect(a.exitCode).toBe(1);
    // Judged when it failed: the message is the unit's state, not "not healthy within the health timeout".
    expect(a.stdout + a.stderr).toContain('health gate: app.service is failed (failed, result exit-code) while it was watched');
    expect(await show('app.service')).toEqual({ ActiveState: 'failed', SubState: 'failed', NRestarts: '0' });
    expect(rolloutEntries(await lastJournal())).toEqual(['taken', 'health gate failed', 'failed']);
    await expectSlotFailed();
  }, 180_000);

  it('after fleet resume, new content that crash-loops from its first second: the slot fails before the gate, naming the unit', async () => {
    expect((await fleet('resume', 'web', '--reason', 'try again'))).toMatchObject({ exitCode: 0, stderr: '' });
    publish('ExecStart=/bin/false\nRestart=always\nRestartSec=200ms');
    const a = await apply();
    expect(a.exitCode).toBe(1);
    // Caught by the restart step's own check, or by the re-observation; the gate if it ever looked running.
    expect(a.stdout + a.stderr).toMatch(/app\.service is [a-z]+ \([a-z-]+\) right after systemctl (?:re)?start|still differs from the spec after apply: units\[app\.service\]|health gate: app\.service /);
    // /bin/false is 'active' for the instant it runs between restarts: seen once in CI. What
    // counts is that systemd restarts it over and over, so it is found out of 'active' within a
    // few tries, as activating (auto-restart) or failed once the start limit is hit.
    expect(await notActiveWithin('app.service', 5_000)).toMatch(/^(activating|failed|inactive)$/);
    const j = await lastJournal();
    expect(rolloutEntries(j).at(-1)).toBe('failed');
    expect(rolloutEntries(j)).not.toContain('given back');
    await expectSlotFailed();
  }, 180_000);

  it('the fixed content after fleet resume: the gate passes, the failed mark is cleared, the group is free (exit 0)', async () => {
    expect((await fleet('resume', 'web', '--reason', 'fixed'))).toMatchObject({ exitCode: 0, stderr: '' });
    publish('ExecStart=/bin/sleep 86400');
    await expectGatePassed('any');
    expect(JSON.parse(c.readFile('/var/lib/reconcile/rollout.json')!)).toEqual({ formatVersion: 1, failed: {} });
  }, 180_000);
});
