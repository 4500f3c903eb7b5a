#!/usr/bin/env node
// npm run bench:fleet [-- --hosts 1000 --concurrency 8 --no-chaos]: the fleet at run time, as
// DESIGN §8.4–8.5 describe it, on one machine: one redis-server, one bare git repository, HOSTS
// hosts as --root trees (about 20 resources each: a base fragment, a group fragment, their own
// mounts and an export), groups of 100, one rollout group (`web`, maxParallel 10). Every host runs
// `reconcile pull REPO --apply` as its timer would, with bounded concurrency; then a fragment
// change is pushed and every host pulls again (restarts: the rollout gate is hit). Printed: wall
// time until all converged, per-host p50/p99 apply time, Redis commands per host apply and at
// peak per second, Redis peak memory, and the largest number of hosts holding one group's slots
// at once, computed from the journals (not from the semaphore's own bookkeeping).
// The chaos run (unless --no-chaos): SIGKILL 5% of the applies midway and restart Redis once;
// after `fleet resume` and one more run every host converges and no group exceeded its limit.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';

const REPO = path.resolve(import.meta.dirname, '..');
const BIN = path.join(REPO, 'bin', 'reconcile');
const WORK = path.join(REPO, 'bench', 'work', 'fleet');
const ARGS = process.argv.slice(2);
const arg = (name, fallback) => (ARGS.includes(name) ? ARGS[ARGS.indexOf(name) + 1] : fallback);
const HOSTS = Number(arg('--hosts', 1000));
const CONCURRENCY = Number(arg('--concurrency', 16)); // above maxParallel, so the limit is what holds hosts back
const CHAOS = !ARGS.includes('--no-chaos');
const GROUP_SIZE = 100;
const LOCK_TTL_S = 5; // a killed holder's slot turns abandoned after this
const ROLLOUT = { group: 'web', maxParallel: 10 };

const name = (i) => `h${String(i).padStart(5, '0')}`;
/** Host i's loopback address: 127.1.x.y, so many hosts are many loopback addresses. */
const address = (i) => `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;

function git(cwd, ...argv) {
  const r = spawnSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', '-c', 'commit.gpgsign=false', ...argv], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${argv.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function unit(i, version) {
  return `[Unit]\nDescription=bench worker ${i} v${version}\n\n[Service]\nExecStart=/usr/bin/sleep infinity\n\n[Install]\nWantedBy=multi-user.target\n`;
}

/** The fleet repository: fleet.yaml, two layers of fragments, a spec per host. */
function writeFleet(dir, version) {
  const groups = Math.ceil(HOSTS / GROUP_SIZE);
  // Only `web` rolls out (the g* groups carry includes, no rollout: they take no slots).
  let fleet = `name: bench\nredis: {env: FLEET_REDIS_URL}\ngroups:\n`;
  fleet += `  ${ROLLOUT.group}: {rollout: {maxParallel: ${ROLLOUT.maxParallel}, maxFailures: ${Math.max(1, Math.ceil(GROUP_SIZE * 0.2))}, gate: restart, wait: 30m}}\n`;
  // every group is a rollout group (defaults: maxParallel 1); the g* groups let all their members go at once
  for (let g = 0; g < groups; g++) fleet += `  g${g}: {include: [roles/g${g}.yaml], rollout: {maxParallel: "100%", maxFailures: 10}}\n`;
  fleet += 'hosts:\n';
  for (let i = 0; i < HOSTS; i++) {
    const g = Math.floor(i / GROUP_SIZE);
    fleet += `  ${name(i)}: {address: ${address(i)}, groups: [${g === 0 ? `${ROLLOUT.group}, ` : ''}g${g}]}\n`;
  }
  writeFileSync(path.join(dir, 'fleet.yaml'), fleet);
  mkdirSync(path.join(dir, 'roles'), { recursive: true });
  let base = 'timezone: Asia/Shanghai\nunits:\n';
  for (let u = 0; u < 8; u++) base += `  - name: bench-${u}.service\n    state: running\n    content: ${JSON.stringify(unit(u, version))}\n`;
  writeFileSync(path.join(dir, 'roles/base.yaml'), base);
  for (let g = 0; g < groups; g++) {
    let frag = 'mounts:\n';
    for (let m = 0; m < 5; m++) frag += `  - {path: /mnt/g${m}, source: "127.0.0.1:/srv/g${g}/m${m}", type: nfs, options: [nfsvers=4.2], state: present}\n`;
    writeFileSync(path.join(dir, `roles/g${g}.yaml`), frag);
  }
  mkdirSync(path.join(dir, 'hosts'), { recursive: true });
  for (let i = 0; i < HOSTS; i++) {
    let spec = `host: ${name(i)}\nlock: {ttl: ${LOCK_TTL_S}s}\ninclude: [../roles/base.yaml]\nmounts:\n`;
    for (let m = 0; m < 5; m++) spec += `  - {path: /mnt/own${m}, source: "127.0.0.1:/srv/${name(i)}/${m}", type: nfs, options: [nfsvers=4.2], state: present}\n`;
    spec += `exports:\n  - {path: /srv/${name(i)}, clients: [{host: "127.0.0.0/8", options: [ro, sync, no_subtree_check]}]}\n`;
    writeFileSync(path.join(dir, `hosts/${name(i)}.yaml`), spec);
  }
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function startRedis(port, dir) {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir, '--daemonize', 'yes', '--pidfile', path.join(dir, 'redis.pid')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`redis-server: ${r.stderr}`);
}
function stopRedis(dir) {
  const pidFile = path.join(dir, 'redis.pid');
  if (!existsSync(pidFile)) return;
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
  } catch {
    // gone
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One host's pull-and-apply, as its timer runs it; resolves with its exit code and wall time. */
function pull(i, { bare, url, killAfterMs }) {
  return new Promise((resolve) => {
    const root = path.join(WORK, 'roots', name(i));
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, 'pull', bare, '--root', root, '--host', name(i), '--apply', '--quiet'], {
      env: { ...process.env, NO_COLOR: '1', FLEET_REDIS_URL: url },
      stdio: ['ignore', 'pipe', 'pipe'], // --quiet: a failed apply's report still goes to stdout
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    const killer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ host: name(i), code: code ?? (signal ? 137 : 1), ms: performance.now() - t0, stderr: stderr.slice(-400) });
    });
  });
}

async function runAll(hosts, options) {
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < hosts.length) {
      const i = hosts[next++];
      results.push(await pull(i, options(i)));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return results;
}

let loadPeak = 0;
/** Redis commands processed, sampled every second: the peak per second. */
function sampler(redis) {
  let last = null;
  let peak = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const n = await commands(redis);
        const t = performance.now();
        if (last) peak = Math.max(peak, ((n - last.n) * 1000) / (t - last.t));
        loadPeak = Math.max(loadPeak, os.loadavg()[0]);
        last = { n, t };
      } catch {
        last = null; // Redis restarting (chaos)
      }
      await sleep(1000);
    }
  })();
  return { stop: async () => ((stopped = true), await loop, peak) };
}

/** Calls per command from INFO commandstats, leaving out INFO: the bench's own sampling, and each host connection's one ready check (add 1 per apply). */
const commandStats = async (redis) => {
  const out = {};
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (m[1] !== 'info') out[m[1]] = Number(m[2]);
  return out;
};
const redisRunId = async (redis) => /run_id:(\w+)/.exec(await redis.info('server'))[1];
const commands = async (redis) => Object.values(await commandStats(redis)).reduce((a, b) => a + b, 0);

/**
 * The largest number of hosts of one group holding slots at once, from the journals' rollout
 * events (src/apply/rollout.ts): `{event: "rollout", group, slot: "taken"|"given back"|"failed", at}`
 * with `at` in Redis time. A failed slot still counts against maxParallel (DESIGN §8.4 rule 3) until
 * `fleet resume` forgets it, and so does the slot of a host SIGKILLed mid-apply (it turns
 * abandoned): both are held until the host gives its slot back or until `resumedAt`.
 */
function maxHolders(resumedAt = []) {
  const events = [];
  for (let i = 0; i < HOSTS; i++) {
    const dir = path.join(WORK, 'roots', name(i), 'var/lib/reconcile/journal');
    if (!existsSync(dir)) continue;
    for (const j of readdirSync(dir)) {
      const file = path.join(dir, j, 'journal.jsonl');
      if (!existsSync(file)) continue;
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line.includes('"rollout"')) continue;
        let e;
        try {
          e = JSON.parse(line);
        } catch {
          continue; // the last line of a SIGKILLed apply's journal may be cut
        }
        if (e.event !== 'rollout' || typeof e.group !== 'string' || typeof e.at !== 'string') continue;
        if (e.slot === 'taken') events.push({ group: e.group, host: name(i), at: Date.parse(e.at), kind: 'take' });
        else if (e.slot === 'given back') events.push({ group: e.group, host: name(i), at: Date.parse(e.at), kind: 'back' });
        else if (e.slot === 'failed') events.push({ group: e.group, host: name(i), at: Date.parse(e.at), kind: 'fail' });
      }
    }
  }
  for (const at of resumedAt) events.push({ group: '*', host: '', at, kind: 'resume' });
  // A slot given back at t and another taken at t did not overlap: releases sort first.
  const order = { back: 0, resume: 0, fail: 1, take: 2 };
  const byGroup = new Map();
  const of = (g) => byGroup.get(g) ?? byGroup.set(g, { live: new Set(), failed: new Set(), max: 0 }).get(g);
  for (const e of events.sort((a, b) => a.at - b.at || order[a.kind] - order[b.kind])) {
    if (e.kind === 'resume') {
      // resume forgets failed and abandoned slots: the failed ones, and the live ones whose holder was killed
      for (const g of byGroup.values()) {
        g.failed.clear();
        for (const h of g.live) if (killedHosts.has(h)) g.live.delete(h);
      }
      continue;
    }
    const g = of(e.group);
    if (e.kind === 'take') {
      g.failed.delete(e.host); // a host that applies again reuses its own slot
      g.live.add(e.host);
    } else if (e.kind === 'back') {
      g.live.delete(e.host);
      g.failed.delete(e.host);
    } else {
      g.live.delete(e.host);
      g.failed.add(e.host);
    }
    g.max = Math.max(g.max, g.live.size + g.failed.size);
  }
  return { events: events.length, max: Object.fromEntries([...byGroup].map(([k, v]) => [k, v.max])) };
}
const killedHosts = new Set();

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

function report(title, results, wallMs, cmds, peak, memory, restarted) {
  const ok = results.filter((r) => r.code === 0).length;
  const times = results.map((r) => r.ms);
  console.log(`\n### ${title}\n`);
  console.log(`| hosts | converged (exit 0) | other exits | wall s | apply p50 ms | apply p99 ms | Redis commands per host apply | Redis peak commands/s | Redis peak memory |`);
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const exits = Object.entries(results.reduce((m, r) => ((m[r.code] = (m[r.code] ?? 0) + 1), m), {})).filter(([c]) => c !== '0').map(([c, n]) => `${n}×${c}`).join(' ') || '0';
  console.log(`| ${results.length} | ${ok} | ${exits} | ${(wallMs / 1000).toFixed(1)} | ${pct(times, 50).toFixed(0)} | ${pct(times, 99).toFixed(0)} | ${restarted ? 'n/a (Redis restarted)' : (cmds / results.length).toFixed(1)} | ${peak.toFixed(0)} | ${memory} |`);
  const failed = results.filter((r) => r.code !== 0 && r.code !== 137).slice(0, 3);
  for (const f of failed) console.log(`\n${f.host} exit ${f.code}: ${f.stderr.trim().split('\n').slice(-2).join(' / ')}`);
}

async function main() {
  rmSync(WORK, { recursive: true, force: true });
  const src = path.join(WORK, 'src');
  const bare = path.join(WORK, 'fleet.git');
  mkdirSync(src, { recursive: true });
  git(WORK, 'init', '-q', '--bare', '-b', 'main', bare);
  git(src, 'init', '-q', '-b', 'main');
  writeFleet(src, 1);
  git(src, 'add', '-A');
  git(src, 'commit', '-qm', 'fleet v1');
  git(src, 'push', '-q', bare, 'main');
  for (let i = 0; i < HOSTS; i++) {
    const root = path.join(WORK, 'roots', name(i));
    mkdirSync(path.join(root, 'etc'), { recursive: true });
    writeFileSync(path.join(root, 'etc/fstab'), '# /etc/fstab\n');
  }

  const port = await freePort();
  const redisDir = path.join(WORK, 'redis');
  startRedis(port, redisDir);
  const url = `redis://127.0.0.1:${port}`;
  await sleep(300);
  const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => 200 });
  redis.on('error', () => {});
  const all = Array.from({ length: HOSTS }, (_, i) => i);
  console.log(`\nreconcile fleet bench: ${HOSTS} hosts (--root trees), groups of ${GROUP_SIZE}, rollout group ${ROLLOUT.group} maxParallel ${ROLLOUT.maxParallel}, concurrency ${CONCURRENCY}, node ${process.version}, ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores`);

  const phases = [];
  let lastP50 = 1000;
  let lastWall = 10;
  const phase = async (title, opts) => {
    const runId = await redisRunId(redis);
    const statsBefore = await commandStats(redis);
    const before = await commands(redis);
    const s = sampler(redis);
    const t0 = performance.now();
    const results = await runAll(all, opts);
    const wall = performance.now() - t0;
    const peak = await s.stop();
    const cmds = (await commands(redis)) - before;
    const memory = /used_memory_peak_human:(\S+)/.exec(await redis.info('memory'))[1];
    const restarted = runId !== (await redisRunId(redis));
    report(title, results, wall, cmds, peak, memory, restarted);
    const statsAfter = await commandStats(redis);
    const mix = Object.entries(statsAfter).map(([c, n]) => [c, (n - (statsBefore[c] ?? 0)) / results.length]).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
    console.log(`\nper host apply: ${mix.map(([c, n]) => `${c} ${n.toFixed(1)}`).join(', ')}; load average (1 min) peak so far ${loadPeak.toFixed(1)}`);
    phases.push({ title, cmdsPerApply: cmds / results.length, peak });
    lastP50 = pct(results.map((r) => r.ms), 50);
    lastWall = wall / 1000;
    return results;
  };

  await phase('first pull: every host converges from an empty root', () => ({ bare, url }));
  await phase('converged: every host pulls again, nothing to change', () => ({ bare, url }));
  writeFleet(src, 2); // ExecStart unchanged, Description changed: every unit file is rewritten (restart)
  git(src, 'commit', '-qam', 'fleet v2: units changed');
  git(src, 'push', '-q', bare, 'main');
  await phase('a fragment change: restarts on every host, the web group rolls out 10 at a time', () => ({ bare, url }));
  const holders = maxHolders();
  console.log(`\nslot holders at once, from ${holders.events} journal events: ${JSON.stringify(holders.max)} (limit ${ROLLOUT.group}: ${ROLLOUT.maxParallel})`);
  if ((holders.max[ROLLOUT.group] ?? 0) > ROLLOUT.maxParallel) failures.push(`group ${ROLLOUT.group} held ${holders.max[ROLLOUT.group]} slots at once`);

  if (CHAOS) {
    writeFleet(src, 3);
    git(src, 'commit', '-qam', 'fleet v3: chaos');
    git(src, 'push', '-q', bare, 'main');
    const kill = new Set(all.filter((i) => i % 20 === 7)); // 5%
    for (const i of kill) killedHosts.add(name(i));
    // Killed at a random point of an apply as long as the last phase's median: most hold their slot then.
    const killAt = () => Math.round(lastP50 * (0.4 + 0.5 * Math.random()));
    const restart = (async () => {
      await sleep(Math.max(3000, (lastWall * 1000) / 3));
      stopRedis(redisDir);
      await sleep(1000);
      startRedis(port, redisDir); // with its AOF: what it had survives, up to the last second
      console.log('\n(redis restarted)');
    })();
    await phase(`chaos: SIGKILL ${kill.size} applies midway, Redis restarted once`, (i) => ({ bare, url, killAfterMs: kill.has(i) ? killAt() : undefined }));
    await restart;
    await sleep((LOCK_TTL_S + 2) * 1000); // the killed holders' leases run out: their slots are abandoned
    const resumedAt = [];
    for (const g of [ROLLOUT.group, ...Array.from({ length: Math.ceil(HOSTS / GROUP_SIZE) }, (_, g) => `g${g}`)]) {
      const r = spawnSync(process.execPath, [BIN, 'fleet', 'resume', g, '--reason', 'bench chaos over', '--fleet', src], { env: { ...process.env, FLEET_REDIS_URL: url }, encoding: 'utf8' });
      const [sec, usec] = await redis.time();
      resumedAt.push(Number(sec) * 1000 + Math.floor(Number(usec) / 1000));
      console.log(`\nfleet resume ${g}: exit ${r.status} ${r.stdout.trim()} ${r.stderr.trim()}`);
    }
    const after = await phase('after fleet resume: every host runs once more', () => ({ bare, url }));
    const unconverged = after.filter((r) => r.code !== 0);
    const h = maxHolders(resumedAt);
    console.log(`\nafter chaos: ${unconverged.length} hosts not converged; slot holders at once over every run, from the journals: ${JSON.stringify(h.max)} (limit ${ROLLOUT.maxParallel})`);
    if (unconverged.length) failures.push(`${unconverged.length} hosts not converged after the chaos: ${unconverged.slice(0, 5).map((r) => r.host).join(', ')}`);
    if ((h.max[ROLLOUT.group] ?? 0) > ROLLOUT.maxParallel) failures.push(`group ${ROLLOUT.group} held ${h.max[ROLLOUT.group]} slots at once`);
  }
  // The arithmetic of DESIGN §8.5: one Redis for 100,000 hosts each applying every 15 minutes.
  const converged = phases[1].cmdsPerApply + 1; // + the connection's INFO ready check
  const bench = spawnSync('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-q', '-n', '50000', '-c', '50', '-t', 'get,set'], { encoding: 'utf8' });
  const rates = [...(bench.stdout ?? '').matchAll(/^(\w+): ([\d.]+) requests per second/gm)].map((m) => `${m[1]} ${Number(m[2]).toFixed(0)}/s`);
  const need = (converged * 100_000) / 900;
  console.log(`\none Redis for 100,000 hosts every 15 min: ${converged.toFixed(1)} commands per converged apply × 100,000 / 900 s = ${need.toFixed(0)} commands/s;`);
  console.log(`redis-benchmark on this machine (GET/SET, 50 clients, after the runs): ${rates.join(', ') || 'not run: ' + (bench.error?.message ?? bench.stderr)}; peak measured in this bench: ${Math.max(...phases.map((p) => p.peak)).toFixed(0)} commands/s`);
  console.log(`machine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, load average (1 min) peak ${loadPeak.toFixed(1)}, node ${process.version}`);
  redis.disconnect();
  stopRedis(redisDir);
  if (failures.length) {
    console.log(`\nFAILED: ${failures.join('; ')}`);
    process.exitCode = 1;
  }
}
const failures = [];

await main();
