#!/usr/bin/env node
// npm run bench [-- N...]: plan and converged-plan times and peak memory of `reconcile` on
// generated host specs (timezone, N fstab entries, N/2 units, N/10 exports), beside the shell baseline of
// ../shared/peer-bench (one `cmp` per file) run on the same converged root in the same run.
// npm run bench -- --scale [FACTOR]: plan time and peak memory of one kind at a time at large
// sizes (2,000 units, 20,000 fstab entries, 20,000 exports, and a quarter of each), so growth
// with the size is visible: linear when the full size takes about four times the quarter.
// npm run bench -- --fleet N: `validate --fleet` of a generated fleet of N hosts (an inventory in
// files of 50 hosts, an NFS server per 50 hosts, shared fragments with units), time and peak RSS.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '..');
const BIN = path.join(REPO, 'bin', 'reconcile');
const PEER = path.resolve(REPO, '..', 'shared', 'peer-bench');
const WORK = path.join(REPO, 'bench', 'work');
const ARGS = process.argv.slice(2);
const SCALE = ARGS.includes('--scale') ? Number(ARGS[ARGS.indexOf('--scale') + 1]) || 1 : 0;
const FLEET = ARGS.includes('--fleet') ? Number(ARGS[ARGS.indexOf('--fleet') + 1]) || 10_000 : 0;
const SIZES = ARGS.filter((a) => /^\d+$/.test(a) && !['--scale', '--fleet'].includes(ARGS[ARGS.indexOf(a) - 1])).map(Number).filter((n) => n >= 10);
const RUNS = 7;
const APPLY_RUNS = 3;
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

// The spec cache of the bench's own: in a shared home directory, other runs' entries could evict
// ours (200 at most) and turn a converged plan into a full check.
function run(argv, { expect } = {}) {
  const rssFile = path.join(WORK, 'rss');
  const cmd = GNU_TIME ? [GNU_TIME, '-f', '%M %U %S', '-o', rssFile, ...argv] : argv;
  const t0 = performance.now();
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: path.join(WORK, 'cache') }, maxBuffer: 256 << 20 });
  const ms = performance.now() - t0;
  if (expect !== undefined && r.status !== expect) {
    throw new Error(`${argv.join(' ')}: exit ${r.status}, expected ${expect}\n${r.stderr.slice(0, 2000)}`);
  }
  const [rssKb, user, sys] = GNU_TIME ? readFileSync(rssFile, 'utf8').trim().split('\n').at(-1).split(' ').map(Number) : [NaN, NaN, NaN];
  // CPU time beside wall time: on a shared machine the wall clock measures the neighbours too.
  return { ms, rssKb, cpuMs: (user + sys) * 1000, stdout: r.stdout };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function generate(n) {
  const dir = path.join(WORK, String(n));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const seed = path.join(dir, 'seed');
  let peerWork = null;
  if (existsSync(path.join(PEER, 'gen.mjs'))) {
    peerWork = path.join(dir, 'peer');
    spawnSync(process.execPath, [path.join(PEER, 'gen.mjs'), String(n), peerWork], { stdio: 'ignore' });
    cpSync(path.join(peerWork, 'seed'), seed, { recursive: true, verbatimSymlinks: true });
  } else {
    mkdirSync(path.join(seed, 'etc'), { recursive: true });
    writeFileSync(path.join(seed, 'etc/fstab'), '# /etc/fstab\nUUID=00000000-0000-4000-8000-000000000001 / ext4 errors=remount-ro 0 1\n');
    writeFileSync(path.join(seed, 'etc/timezone'), 'Etc/UTC\n');
    symlinkSync('/usr/share/zoneinfo/Etc/UTC', path.join(seed, 'etc/localtime'));
  }
  let spec = `host: bench\ntimezone: Asia/Shanghai\nmounts:\n`;
  for (let i = 1; i <= n; i++) spec += `  - {path: /mnt/share${i}, source: "192.168.1.140:/data/share${i}", type: nfs, options: [nfsvers=3, nolock], state: present}\n`;
  spec += `units:\n`;
  for (let i = 1; i <= Math.floor(n / 2); i++) {
    const content = `[Unit]\nDescription=peerbench worker ${i}\nAfter=network-online.target\nWants=network-online.target\n\n[Service]\nType=simple\nEnvironment=WORKER_ID=${i}\nExecStart=/usr/bin/sleep infinity\nRestart=on-failure\n\n[Install]\nWantedBy=multi-user.target\n`;
    spec += `  - name: peerbench-worker-${i}.service\n    content: ${JSON.stringify(content)}\n`;
  }
  spec += `exports:\n`;
  for (let i = 1; i <= Math.floor(n / 10); i++) spec += `  - {path: /srv/export/vol${i}, clients: [{host: 192.168.1.0/24, options: [rw, sync, no_subtree_check]}]}\n`;
  writeFileSync(path.join(dir, 'host.yaml'), spec);
  return { dir, seed, spec: path.join(dir, 'host.yaml'), peerWork, resources: 1 + n + Math.floor(n / 2) + Math.floor(n / 10) };
}

function bench(n) {
  const g = generate(n);
  const root = path.join(g.dir, 'root');
  rmSync(root, { recursive: true, force: true });
  cpSync(g.seed, root, { recursive: true, verbatimSymlinks: true });
  const fresh = run(['node', BIN, 'plan', g.spec, '--root', root], { expect: 2 });
  // Apply from the seed, alternating with the shell loop's apply.sh on its own fresh copy, so both
  // see the same machine load; the last apply leaves the converged root the plans below check.
  const applies = [];
  const shellApplies = [];
  for (let i = 0; i < APPLY_RUNS; i++) {
    if (g.peerWork) {
      const shellRoot = path.join(g.dir, 'shell-root');
      rmSync(shellRoot, { recursive: true, force: true });
      cpSync(g.seed, shellRoot, { recursive: true, verbatimSymlinks: true });
      shellApplies.push(run(['bash', path.join(PEER, 'shell', 'apply.sh'), g.peerWork, shellRoot], { expect: 0 }).ms);
    }
    rmSync(root, { recursive: true, force: true });
    cpSync(g.seed, root, { recursive: true, verbatimSymlinks: true });
    applies.push(run(['node', BIN, 'apply', g.spec, '--root', root, '--yes'], { expect: 0 }));
  }
  const converged = [];
  for (let i = 0; i < RUNS; i++) converged.push(run(['node', BIN, 'plan', g.spec, '--root', root, '--quiet'], { expect: 0 }));
  let shell = null;
  if (g.peerWork) {
    const times = [];
    for (let i = 0; i < RUNS; i++) times.push(run(['bash', path.join(PEER, 'shell', 'check.sh'), g.peerWork, root]).ms);
    shell = median(times);
  }
  return {
    n,
    resources: g.resources,
    planFresh: fresh.ms,
    apply: median(applies.map((r) => r.ms)),
    shellApply: shellApplies.length ? median(shellApplies) : null,
    planConverged: median(converged.map((r) => r.ms)),
    rssMb: Math.max(...converged.map((r) => r.rssKb), ...applies.map((r) => r.rssKb)) / 1024,
    shell,
  };
}

/** One kind at a large size on an empty root: the fresh plan (text and JSON), its time and peak RSS. */
function scale(what, n) {
  const dir = path.join(WORK, `scale-${what}-${n}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'root', 'etc'), { recursive: true });
  writeFileSync(path.join(dir, 'root', 'etc/fstab'), '# /etc/fstab\nUUID=00000000-0000-4000-8000-000000000001 / ext4 errors=remount-ro 0 1\n');
  const lines = [`host: bench`];
  if (what === 'units') {
    lines.push('units:');
    for (let i = 1; i <= n; i++) lines.push(`  - name: w${i}.service`, `    content: "[Unit]\\nDescription=worker ${i}\\n\\n[Service]\\nExecStart=/usr/bin/sleep infinity\\n\\n[Install]\\nWantedBy=multi-user.target\\n"`, '    enabled: true');
  } else if (what === 'mounts') {
    lines.push('mounts:');
    for (let i = 1; i <= n; i++) lines.push(`  - {path: /mnt/s${i}, source: "10.0.0.1:/data/s${i}", type: nfs, options: [nfsvers=3, nolock]}`);
  } else {
    lines.push('exports:');
    for (let i = 1; i <= n; i++) lines.push(`  - {path: /srv/x/v${i}, clients: [{host: 10.0.0.0/24, options: [rw, sync, no_subtree_check]}]}`);
  }
  const spec = path.join(dir, 'host.yaml');
  writeFileSync(spec, lines.join('\n') + '\n');
  const root = path.join(dir, 'root');
  const text = run(['node', BIN, 'plan', spec, '--root', root, '--quiet'], { expect: 2 });
  const json = run(['node', BIN, 'plan', spec, '--root', root, '--format', 'json'], { expect: 2 });
  return { what, n, textMs: text.ms, textCpu: text.cpuMs, jsonMs: json.ms, jsonCpu: json.cpuMs, rssMb: Math.max(text.rssKb, json.rssKb) / 1024, jsonMb: Buffer.byteLength(json.stdout) / 2 ** 20 };
}

/**
 * A fleet of n hosts as a user would keep one: fleet.yaml with groups, the inventory in files of
 * 50 hosts (a rack each, with its NFS server), fragments shared by every host (base, web) and by a
 * rack (its mount), a small file per host. Every fragment is included by many hosts.
 */
function generateFleet(n) {
  const dir = path.join(WORK, `fleet-${n}`);
  rmSync(dir, { recursive: true, force: true });
  for (const d of ['inventory', 'roles', 'hosts']) mkdirSync(path.join(dir, d), { recursive: true });
  const racks = Math.ceil(n / 50);
  const unit = (name, extra = '') =>
    `  - name: ${name}\n    content: "[Unit]\\nDescription=${name}\\nAfter=network-online.target\\n\\n[Service]\\nExecStart=/usr/bin/sleep infinity\\nRestart=on-failure\\n${extra}\\n[Install]\\nWantedBy=multi-user.target\\n"\n    enabled: true\n`;
  writeFileSync(path.join(dir, 'roles/base.yaml'), `timezone: Etc/UTC\nwatchdog: {stepTimeout: 2m}\nunits:\n${unit('node-exporter.service')}${unit('log-shipper.service', 'Nice=10\\n')}  - {name: snapd.service, enabled: false, state: stopped}\n`);
  writeFileSync(path.join(dir, 'roles/web.yaml'), `x-opts: &opts [rw, sync, no_subtree_check]\nunits:\n${unit('web.service', 'User=www-data\\n')}    dropins: {limits.conf: "[Service]\\nLimitNOFILE=65536\\n"}\n`);
  let groups = `  base: {include: [roles/base.yaml]}\n  web: {include: [roles/web.yaml], rollout: {maxParallel: 5%, maxFailures: 3, canary: 1}}\n  nfs-servers: {}\n`;
  let hostCount = 0;
  for (let r = 0; r < racks && hostCount < n; r++) {
    const net = `10.${Math.floor(r / 250)}.${r % 250}`;
    groups += `  rack${r}: {include: [roles/rack${r}.yaml]}\n`;
    writeFileSync(path.join(dir, `roles/rack${r}.yaml`), `mounts:\n  - {path: /mnt/share, source: {fleet: nfs${r}, path: /data/share}, type: nfs, options: [nfsvers=4.2, hard, _netdev], state: mounted}\n`);
    let inv = `hosts:\n  nfs${r}: {address: ${net}.1/24, groups: [base, nfs-servers]}\n`;
    writeFileSync(path.join(dir, `hosts/nfs${r}.yaml`), `host: nfs${r}\nexports:\n  - path: /data/share\n    clients:\n      - {host: {fleet: group:rack${r}}, options: [rw, sync, no_subtree_check]}\n`);
    hostCount++;
    for (let j = 1; j < 50 && hostCount < n; j++, hostCount++) {
      const name = `web${r}-${j}`;
      inv += `  ${name}: {address: ${net}.${j + 10}/24, groups: [base, web, rack${r}]}\n`;
      writeFileSync(path.join(dir, `hosts/${name}.yaml`), `host: ${name}\n${j % 10 === 0 ? 'exclude: ["units[log-shipper.service]"]\n' : ''}`);
    }
    writeFileSync(path.join(dir, `inventory/rack${String(r).padStart(4, '0')}.yaml`), inv);
  }
  writeFileSync(path.join(dir, 'fleet.yaml'), `apiVersion: reconcile/v1\nname: bench\ninventory: [inventory/*.yaml]\ngroups:\n${groups}defaults: {rollout: {maxParallel: 1, maxFailures: 1}}\n`);
  return { dir, hosts: hostCount, fragments: racks + 2 };
}

function fleetBench(n) {
  const g = generateFleet(n);
  const r = run(['node', BIN, 'validate', '--fleet', g.dir, '--quiet'], { expect: 0 });
  return { ...g, ms: r.ms, cpuMs: r.cpuMs, rssMb: r.rssKb / 1024 };
}

mkdirSync(WORK, { recursive: true });
if (SCALE) {
  console.log(`\nreconcile, node ${process.version}: fresh plans on an empty root, one kind each\n`);
  console.log('| kind | N | plan (text) ms wall / CPU | plan --format json ms wall / CPU | JSON MiB | peak RSS MiB |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [what, full] of [['units', 2_000], ['mounts', 20_000], ['exports', 20_000]]) {
    for (const n of [Math.round((full * SCALE) / 4), Math.round(full * SCALE)]) {
      let r;
      try {
        r = scale(what, n);
      } catch (e) {
        console.log(`| ${what} | ${n} | failed: ${String(e.message).split('\n').find((l) => /Error|error/.test(l)) ?? e.message.split('\n')[0]} | | | |`);
        continue;
      }
      console.log(`| ${r.what} | ${r.n} | ${r.textMs.toFixed(0)} / ${r.textCpu.toFixed(0)} | ${r.jsonMs.toFixed(0)} / ${r.jsonCpu.toFixed(0)} | ${r.jsonMb.toFixed(1)} | ${r.rssMb.toFixed(0)} |`);
    }
  }
  process.exit(0);
}
if (FLEET) {
  const r = fleetBench(FLEET);
  console.log(`\nreconcile validate --fleet, node ${process.version}: ${r.hosts} hosts, ${r.fragments} fragments (inventory in files of 50 hosts)\n`);
  console.log('| hosts | wall s | CPU s | peak RSS MiB |');
  console.log('|---:|---:|---:|---:|');
  console.log(`| ${r.hosts} | ${(r.ms / 1000).toFixed(1)} | ${(r.cpuMs / 1000).toFixed(1)} | ${r.rssMb.toFixed(0)} |`);
  process.exit(0);
}
const nodeStart = median(Array.from({ length: RUNS }, () => run(['node', '-e', '0']).ms));
const rows = (SIZES.length ? SIZES : [10, 100, 500]).map(bench);
const f = (x) => (x === null ? '-' : x.toFixed(0));
console.log(`\nreconcile ${JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version}, node ${process.version}, ${RUNS} runs per median; bare \`node -e 0\` start: ${nodeStart.toFixed(0)} ms\n`);
console.log('| N | resources | plan (fresh) ms | plan (converged) ms, median | shell check.sh ms, median | converged / shell | apply ms, median | shell apply.sh ms, median | apply / shell | peak RSS MiB |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const ratio = (a, b) => (b ? (a / b).toFixed(2) : '-');
  console.log(`| ${r.n} | ${r.resources} | ${f(r.planFresh)} | ${f(r.planConverged)} | ${f(r.shell)} | ${ratio(r.planConverged, r.shell)} | ${f(r.apply)} | ${f(r.shellApply)} | ${ratio(r.apply, r.shellApply)} | ${r.rssMb.toFixed(0)} |`);
}
console.log('\nWorkload (the peer benchmark\'s): timezone, N fstab entries (NFS, state present), N/2 unit files with content (enabled state untouched), N/10 exports; both tools check the same converged root and apply to fresh copies of the same seed. Peak RSS covers the converged plans and the applies.');
