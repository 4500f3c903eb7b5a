/**
 * Rollouts through a Redis Sentinel set whose master is PARTITIONED, not asked to fail over
 * (DESIGN §8.4 rule 11), with real redis-server and redis-sentinel processes on loopback:
 *   M   the master, reached by the sentinels and by replica R2 only through a TCP proxy this test
 *       controls; the proxy tells its clients apart by source address (R2 and the sentinels bind
 *       their outgoing connections to 127.0.0.3 and 127.0.0.2, `bind-source-addr`), so cutting one
 *       source blackholes its traffic both ways while the applies (127.0.0.1) still reach M;
 *   R1  a replica on M's side (connected directly, `replica-priority 0`: never promoted);
 *   R2  the replica the sentinels promote.
 * The partition forms in two steps so the order of events is the test's, not the scheduler's:
 * first R2 loses M (M goes on granting, acknowledged by R1), then the sentinels lose M and
 * promote R2. Concurrency is counted from the applies' journals.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GroupSlots, groupKeys } from '../src/locks/slots.js';
import { BIN, runCli } from './helpers/cli.js';
import { journalAt, maxOverlap, slotIntervals } from './helpers/journal.js';
import { sleep, until } from './helpers/locks.js';
import { describeNeeding } from './helpers/prereq.js';
import { startRedis, startSentinel, type RedisServer } from './helpers/redis.js';

const MASTER = `partmaster${process.pid}`;
const FLEET = `part${process.pid}`;
const SENTINEL_SRC = '127.0.0.2';
const R2_SRC = '127.0.0.3';
// What README asks of the fleet's Redis, on every data node (any of them may become the master).
const DATA_NODE = ['--protected-mode', 'no', '--min-replicas-to-write', '1', '--min-replicas-max-lag', '5', '--appendonly', 'yes'];

/** A TCP proxy in front of one port; `cut(src)` blackholes every connection from that source address, existing and new. */
async function startProxy(target: number): Promise<{ port: number; cut(src: string): void; close(): Promise<void> }> {
  const cut = new Set<string>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const src = down.remoteAddress ?? '';
    const up = net.connect(target, '127.0.0.1');
    sockets.add(down).add(up);
    // Dropped, not closed: a partition gives neither side an error, only silence.
    down.on('data', (d) => void (cut.has(src) || up.write(d)));
    up.on('data', (d) => void (cut.has(src) || down.write(d)));
    const end = () => {
      down.destroy();
      up.destroy();
      sockets.delete(down);
      sockets.delete(up);
    };
    for (const s of [down, up]) s.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    cut: (src) => void cut.add(src),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describeNeeding({ commands: { 'redis-sentinel': 'redis-sentinel', 'redis-server': 'redis-server' } }, 'rollout slots when the Redis master is partitioned', () => {
  let m: RedisServer, r1: RedisServer, r2: RedisServer;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  const sentinels: RedisServer[] = [];
  let dir: string;
  const children = new Set<ChildProcess>();
  const clients: Redis[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'reconcile-rollout-partition-'));
    m = await startRedis({ args: DATA_NODE });
    proxy = await startProxy(m.port);
    r1 = await startRedis({ args: [...DATA_NODE, '--replicaof', '127.0.0.1', String(m.port), '--replica-priority', '0'] });
    r2 = await startRedis({ args: [...DATA_NODE, '--replicaof', '127.0.0.1', String(proxy.port), '--bind-source-addr', R2_SRC] });
    // The sentinels announce the address their links leave from, so they listen there too.
    for (let i = 0; i < 3; i++) sentinels.push(await startSentinel(MASTER, proxy.port, ['--protected-mode', 'no', '--bind', '127.0.0.1', SENTINEL_SRC, '--bind-source-addr', SENTINEL_SRC]));
  }, 60_000);
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    clients.forEach((c) => c.disconnect());
    await Promise.all([...sentinels, r2, r1, m].filter(Boolean).map((s) => s.stop()));
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const client = (port: number) => {
    const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };

  // A loaded machine is slow to fail over: a minute for each condition, never a timing assertion.
  const waitFor = <T,>(what: string, fn: () => Promise<T | undefined>) => until(what, fn, 60_000);

  it('a partitioned old master: grants there count only when a replica has them, holders move to the new master and re-insert, the group is marked overcommitted, and no more than maxParallel applies ever hold a slot', async () => {
    const repo = path.join(dir, 'repo');
    mkdirSync(path.join(repo, 'hosts'), { recursive: true });
    const hosts = ['h1', 'h2', 'h3'];
    const rootOf = (h: string) => path.join(dir, 'roots', h);
    const list = sentinels.map((s) => `"127.0.0.1:${s.port}"`).join(', ');
    writeFileSync(
      path.join(repo, 'fleet.yaml'),
      `name: ${FLEET}\nhosts:\n${hosts.map((h, i) => `  ${h}: {address: 127.0.3.${i + 1}, groups: [web, zz]}\n`).join('')}groups:\n` +
        `  web: {rollout: {maxParallel: 2, maxFailures: 2, gate: reload, wait: 4m}}\n  zz: {rollout: {maxParallel: 3, maxFailures: 3, gate: reload, wait: 4m}}\n` +
        `redis: {sentinels: [${list}], master: ${MASTER}}\n`,
    );
    // lock.ttl 30s: a holder keeps its slot only if its lease outlasts the failover's pause in writes
    // (down-after, the election, R1 resynced to R2: about 8 s here at load 30, longer when busier);
    // at 6 s the holders lost theirs, at 15 s once in four runs.
    for (const h of hosts) {
      writeFileSync(path.join(repo, 'hosts', `${h}.yaml`), `host: ${h}\nlock: {ttl: 30s}\nunits:\n  - name: app.service\n    content: "[Service]\\nExecStart=/bin/true\\n"\n    state: running\n`);
      mkdirSync(rootOf(h), { recursive: true });
    }
    execFileSync('git', ['init', '-q'], { cwd: repo });
    // Each apply's exit code with what it said on stderr, so a failure shows why.
    const exits = new Map<string, Promise<{ code: number | null; stderr: string }>>();
    const start = (h: string) => {
      const c = spawn(process.execPath, [BIN, 'apply', path.join(repo, 'hosts', `${h}.yaml`), '--root', rootOf(h), '--yes'], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
      children.add(c);
      let stderr = '';
      c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      exits.set(h, new Promise((r) => c.once('close', (code) => (children.delete(c), r({ code, stderr })))));
    };
    const exited = async (h: string) => await exits.get(h)!;
    /** The apply ended with exit 0; otherwise the failure names its stderr and its rollout journal. */
    const succeeded = async (h: string) => {
      const { code, stderr } = await exited(h);
      const rollout = journalAt(rootOf(h)).filter((e) => e.event.startsWith('rollout'));
      expect({ host: h, code }, `${stderr}\n${JSON.stringify(rollout)}`).toEqual({ host: h, code: 0 });
    };

    const mc = client(m.port);
    // Each group's first grant on M waits out a settle period of the asker's ttl + 2 s: a client with
    // a 1 s lease uses them first, so the applies (30 s leases) do not wait a minute for nothing.
    // Group lone is used again at the end, from M's side.
    const loneOnM = new GroupSlots(mc, FLEET, 'lone', true);
    const lone = { host: 'h9', commit: 'c', planDigest: 'p', limit: 5, maxFailures: 1, canary: 0, ttlMs: 1000 };
    await Promise.all(
      ['lone', 'web', 'zz'].map(async (g) => {
        const slots = new GroupSlots(mc, FLEET, g, true);
        const seeded = await waitFor(`a first grant in group ${g} on M`, async () => {
          const r = await slots.grant(lone);
          return r.granted ? r : undefined;
        });
        expect(await slots.giveBack('h9', seeded.slot.token)).toBeDefined();
      }),
    );
    // A real failover needs the sentinels to know each other and both replicas.
    const sentinelClients = sentinels.map((s) => client(s.port));
    await waitFor('the sentinels to know each other and both replicas', async () => {
      for (const c of sentinelClients) {
        if (((await c.call('SENTINEL', 'SENTINELS', MASTER)) as unknown[]).length !== 2) return undefined;
        if (((await c.call('SENTINEL', 'REPLICAS', MASTER)) as unknown[]).length !== 2) return undefined;
      }
      return true;
    });
    const r2c = client(r2.port);
    const hostsIn = async (c: Redis, group: string) => (await c.hkeys(groupKeys(FLEET, group).slots)).sort();
    const queued = async (c: Redis, group: string) => await c.zrange(groupKeys(FLEET, group).queue, 0, -1);
    // Hold every host after its web slot: each is paused in zz (a human on M's side lets one go on).
    const zzOnM = new GroupSlots(mc, FLEET, 'zz');
    for (const h of hosts) await zzOnM.control('pause', h, `hold ${h} after its web slot`);

    start('h1');
    start('h2');
    await waitFor('h1 and h2 to hold web, replicated to R2, and to wait in zz', async () =>
      JSON.stringify(await hostsIn(r2c, 'web')) === '["h1","h2"]' && (await queued(mc, 'zz')).length === 2 ? true : undefined,
    );
    start('h3');
    await waitFor('h3 to queue in web', async () => ((await queued(mc, 'web')).includes('h3') ? true : undefined));

    // Step 1: R2 loses M. M goes on: h1 finishes there and h3 takes the slot h1 gave back, both
    // acknowledged by R1 only; R2 still has h1 and h2.
    proxy.cut(R2_SRC);
    await zzOnM.control('resume', 'h1', 'let h1 finish on the old master');
    await succeeded('h1');
    await waitFor('h3 to hold web on M', async () => (JSON.stringify(await hostsIn(mc, 'web')) === '["h2","h3"]' && (await queued(mc, 'zz')).includes('h3') ? true : undefined));
    expect(await hostsIn(r2c, 'web')).toEqual(['h1', 'h2']);

    // Step 2: the sentinels lose M too. They promote R2 (R1 may not be) and point R1 at it.
    proxy.cut(SENTINEL_SRC);
    await waitFor('the sentinels to name R2 the master', async () => ((await sentinelClients[0]!.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER)) as string[])[1] === String(r2.port) || undefined);
    await waitFor('R2 to take writes with R1 as its replica', async () => (/role:master[\s\S]*connected_slaves:1/.test(await r2c.info('replication')) ? true : undefined));
    const r2Run = /^run_id:(\S+)/m.exec(await r2c.info('server'))![1]!;

    // The holders' keep-alives reach R2: a settle period starts, h3 puts back the slot R2 never
    // saw, and the group, now above its limit as R2 sees it, is marked overcommitted.
    const webOnR2 = new GroupSlots(r2c, FLEET, 'web', true);
    const over = await waitFor('web to be marked overcommitted on R2', async () => {
      const st = await webOnR2.inspect();
      return st.overcommitted ? st : undefined;
    }).catch(async (e: Error) => {
      // Say why: an apply that gave up (its stderr) or a holder that never reached R2.
      const applies = await Promise.all(hosts.map((h) => Promise.race([exited(h), sleep(100).then(() => 'running')])));
      throw new Error(`${e.message}; on R2: ${JSON.stringify(await webOnR2.inspect())}; applies: ${JSON.stringify(applies)}`);
    });
    expect(over.slots.map((s) => s.host).sort()).toEqual(['h1', 'h2', 'h3']);
    const status = await runCli(['fleet', 'status', '--group', 'web', '--format', 'json', '--fleet', repo]);
    expect(status.exitCode).toBe(2);
    const view = (JSON.parse(status.stdout) as { rollouts: { group: string; overcommitted: boolean; attention: string[] }[] }).rollouts[0]!;
    expect(view).toMatchObject({ group: 'web', overcommitted: true });
    expect(view.attention.join('\n')).toMatch(/overcommitted: 3 slots for a limit of 2/);

    // A client still on the old master gets nothing that counts: no replica acknowledges there
    // (refused after WAIT and given back, or refused by min-replicas-to-write once R2's lag passed 5 s).
    expect(await loneOnM.grant(lone)).toMatchObject({ granted: false, why: 'unreplicated' });
    expect(await r2c.hlen(groupKeys(FLEET, 'lone').slots)).toBe(0);

    // Let h2 and h3 finish, through the sentinels (now R2).
    expect((await runCli(['fleet', 'resume', 'host:h2', 'host:h3', '--reason', 'finish after the failover', '--fleet', repo])).exitCode).toBe(0);
    await succeeded('h2');
    await succeeded('h3');
    for (const h of hosts) expect(existsSync(path.join(rootOf(h), 'etc/systemd/system/app.service'))).toBe(true);

    // From the journals: never more than maxParallel (2) applies held a web slot, across both masters.
    const iv = slotIntervals(rootOf, hosts, 'web');
    expect(iv.map((i) => i.host).sort()).toEqual(hosts);
    expect(iv.every((i) => i.to < Date.parse('9000-01-01'))).toBe(true);
    expect(maxOverlap(iv)).toBeLessThanOrEqual(2);
    // Every holder at the failover journalled the new master at a keep-alive; h3's slot was put back.
    const noticed = (h: string) => journalAt(rootOf(h)).find((e) => e.event === 'rollout' && e.group === 'web' && e.slot === 'new master');
    expect(noticed('h2')).toMatchObject({ held: true, reinserted: false });
    expect(noticed('h3')).toMatchObject({ held: true, reinserted: true, overcommitted: true });
    expect(noticed('h1')).toBeUndefined();
    // R2's stream: the new master, then h3 re-inserted and the overcommit, before any web grant there.
    const web = (await r2c.xrange(groupKeys(FLEET, 'web').events, '-', '+'))
      .map(([, kv]) => Object.fromEntries(kv.flatMap((_, i) => (i % 2 ? [] : [[kv[i], kv[i + 1]]]))) as Record<string, string>)
      .filter((e) => e.group === 'web');
    const after = web.slice(web.findIndex((e) => e.type === 'new master' && e.reason === `run_id ${r2Run}`));
    const decisions = after.filter((e) => ['new master', 'reinserted', 'overcommitted', 'grant', 'regrant'].includes(e.type!));
    expect(decisions.map((e) => `${e.type} ${e.host}`)).toEqual(['new master ', 'reinserted h3', 'overcommitted ']);
    // h1's slot, given back only on the old master, is a ghost on R2: it runs out after the settle
    // period and counts as abandoned (fail closed) until fleet resume; the overcommit cleared itself.
    const end = await waitFor('h1 to be swept on R2', async () => {
      const st = await webOnR2.inspect();
      return st.slots.some((s) => s.host === 'h1' && s.phase === 'abandoned') ? st : undefined;
    });
    expect({ slots: end.slots.map((s) => `${s.host} ${s.phase}`), overcommitted: end.overcommitted, halted: end.halted }).toEqual({ slots: ['h1 abandoned'], overcommitted: false, halted: false });
  }, 420_000);
});
