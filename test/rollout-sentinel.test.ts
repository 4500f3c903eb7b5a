/**
 * Rollouts through Redis Sentinel (DESIGN §8.4 rule 11) with a real master, replica and three
 * sentinels: a grant counts once a replica has it (WAIT), a new master starts a settle period in
 * which nothing is granted and holders put back slots the failover lost, and a group above its
 * limit afterwards is marked overcommitted.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GroupSlots } from '../src/locks/slots.js';
import { BIN, runCli } from './helpers/cli.js';
import { sleep, until } from './helpers/locks.js';
import { describeNeeding } from './helpers/prereq.js';
import { startSentinelSet } from './helpers/redis.js';

const MASTER = `rollmaster${process.pid}`;

describeNeeding({ commands: { 'redis-sentinel': 'redis-sentinel', 'redis-server': 'redis-server' } }, 'rollout slots through Redis Sentinel', () => {
  let set: Awaited<ReturnType<typeof startSentinelSet>>;
  let dir: string;
  const children = new Set<ChildProcess>();
  const clients: Redis[] = [];
  beforeAll(async () => {
    set = await startSentinelSet(MASTER);
    dir = mkdtempSync(path.join(tmpdir(), 'reconcile-rollout-sentinel-'));
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    clients.forEach((c) => c.disconnect());
    await set?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const client = (port: number) => {
    const c = new Redis({ port, host: '127.0.0.1' });
    clients.push(c);
    return c;
  };

  it('grants through Sentinel, replicated; after a failover the holder keeps its slot, lost slots come back, overcommitment is marked', async () => {
    const repo = path.join(dir, 'repo');
    mkdirSync(path.join(repo, 'hosts'), { recursive: true });
    const sentinels = set.sentinels.map((s) => `"127.0.0.1:${s.port}"`).join(', ');
    writeFileSync(
      path.join(repo, 'fleet.yaml'),
      `name: sent\nhosts:\n  h1: {address: 127.0.2.1, groups: [aa, pp]}\ngroups:\n  aa: {rollout: {maxParallel: 1, maxFailures: 1, gate: reload, wait: 2m}}\n  pp: {rollout: {gate: reload, wait: 5m}}\nredis: {sentinels: [${sentinels}], master: ${MASTER}}\n`,
    );
    writeFileSync(path.join(repo, 'hosts', 'h1.yaml'), 'host: h1\nlock: {ttl: 6s}\nunits:\n  - name: app.service\n    content: "[Service]\\nExecStart=/bin/true\\n"\n    state: running\n');
    mkdirSync(path.join(dir, 'root'));
    execFileSync('git', ['init', '-q'], { cwd: repo });
    // The sentinels must know the replica before they can fail over to it.
    const s0 = client(set.sentinels[0]!.port);
    await until('the sentinels to see the replica', async () => ((await s0.call('SENTINEL', 'REPLICAS', MASTER)) as unknown[]).length === 1 || undefined);

    expect((await runCli(['fleet', 'pause', 'pp', '--reason', 'hold h1', '--fleet', repo])).exitCode).toBe(0);
    const h1 = spawn(process.execPath, [BIN, 'apply', path.join(repo, 'hosts', 'h1.yaml'), '--root', path.join(dir, 'root'), '--yes'], { env: { ...process.env, NO_COLOR: '1' }, stdio: 'ignore' });
    children.add(h1);
    const master = client(set.master.port);
    const replica = client(set.replica.port);
    const aa = new GroupSlots(master, 'sent', 'aa');
    // The first grant on a master it has not seen waits out a settle period, then is replicated before it counts.
    await until('h1 to hold aa', async () => ((await aa.inspect()).slots[0]?.host === 'h1' ? true : undefined));
    const onReplica = await replica.hget('reconcile:sent:rollout:aa:slots', 'h1');
    expect(JSON.parse(onReplica!)).toMatchObject({ host: 'h1', phase: 'converging' });

    await s0.call('SENTINEL', 'FAILOVER', MASTER);
    await until('the replica to become master', async () => ((await s0.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER)) as string[])[1] === String(set.replica.port) || undefined);
    await until('the new master to accept writes', async () => (/role:master/.test(await replica.info('replication')) ? true : undefined));
    const promoted = new GroupSlots(replica, 'sent', 'aa');
    const runId = /^run_id:(\S+)/m.exec(await replica.info('server'))![1]!;
    // The holder's keep-alive reaches the new master and starts its settle period.
    await until('the settle period on the new master', async () => ((await replica.hget('reconcile:sent:rollout:aa:state', 'runId')) === runId ? true : undefined));
    // Say the failover lost h1's grant and the old master had granted another: h1 puts its slot back.
    const ghost = { host: 'ghost', commit: 'c', planDigest: 'p', phase: 'converging', since: Date.now(), limit: 1, maxFailures: 1, token: 999 };
    await replica.multi().hdel('reconcile:sent:rollout:aa:slots', 'h1').hset('reconcile:sent:rollout:aa:slots', 'ghost', JSON.stringify(ghost)).zadd('reconcile:sent:rollout:aa:leases', Date.now() + 60_000, 'ghost').exec();
    const st = await until('h1 to re-insert its slot', async () => {
      const s = await promoted.inspect();
      return s.slots.some((x) => x.host === 'h1') ? s : undefined;
    }, 10_000);
    expect(st.overcommitted).toBe(true);
    expect(st.slots.map((s) => s.host).sort()).toEqual(['ghost', 'h1']);
    const events = (await replica.xrange('reconcile:sent:events', '-', '+')).map(([, kv]) => `${kv[1]} ${kv[5]}`);
    expect(events).toEqual(expect.arrayContaining(['new master ', 'reinserted h1', 'overcommitted ']));

    const exited = new Promise((r) => h1.once('exit', r));
    h1.kill('SIGTERM');
    await exited;
    expect(existsSync(path.join(dir, 'root', 'etc/systemd/system/app.service'))).toBe(false);
  }, 120_000);
});
