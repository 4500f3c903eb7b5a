/**
 * Start a throw-away redis-server for a test file: random loopback port, no persistence,
 * daemonized with a pidfile so it is stopped by pid (never by name).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface RedisServer {
  url: string;
  port: number;
  pid: number;
  /** With `netnsOf`: a unix socket this machine's clients reach the server through. */
  socket?: string;
  stop(): Promise<void>;
}

const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

// Safety net: if a test file dies before its afterAll, do not leave daemons behind.
const running = new Set<number>();
process.once('exit', () => {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

/**
 * `netnsOf: PID` starts it inside that process's network namespace (a container's, e.g.), on that
 * namespace's loopback, so the container's own clients reach it at `url`; this machine's reach it
 * through `socket`.
 */
export async function startRedis(opts: { password?: string; args?: string[]; netnsOf?: number } = {}): Promise<RedisServer> {
  let lastError: unknown;
  // The free port can be taken between probing and binding: retry a few times.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      return await startOn(port, opts.password, opts.args ?? [], undefined, opts.netnsOf);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function startOn(port: number, password: string | undefined, extra: string[], sentinelOf?: { name: string; port: number }, netnsOf?: number): Promise<RedisServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'reconcile-redis-'));
  const pidfile = path.join(dir, 'redis.pid');
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--daemonize', 'yes',
    '--pidfile', pidfile,
    '--dir', dir,
    '--logfile', path.join(dir, 'redis.log'),
  ];
  if (password !== undefined) args.push('--requirepass', password);
  const socket = netnsOf !== undefined ? path.join(dir, 'redis.sock') : undefined;
  if (socket) args.push('--unixsocket', socket, '--unixsocketperm', '700');
  args.push(...extra);
  // A sentinel rewrites its configuration file: it gets one of its own, and the server's options.
  const conf = path.join(dir, 'sentinel.conf');
  if (sentinelOf) {
    await writeFile(conf, `sentinel monitor ${sentinelOf.name} 127.0.0.1 ${sentinelOf.port} 2\nsentinel down-after-milliseconds ${sentinelOf.name} 1000\nsentinel failover-timeout ${sentinelOf.name} 5000\n`);
    args.unshift(conf);
    args.push('--sentinel');
  }
  await new Promise<void>((resolve, reject) => {
    // nsenter -n: only the network namespace is the container's; files and pids stay this machine's.
    const argv = netnsOf !== undefined ? ['nsenter', '-t', String(netnsOf), '-n', '--', REDIS_SERVER, ...args] : [REDIS_SERVER, ...args];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`redis-server exited ${code}: ${stderr.trim()}`)),
    );
  });

  const deadline = Date.now() + 10_000;
  let pid: number | undefined;
  let log = '';
  while (Date.now() < deadline) {
    pid ??= await readPid(pidfile);
    if (pid !== undefined && (await ping(socket ?? port, password))) break;
    if (pid !== undefined && !alive(pid)) break;
    await sleep(25);
  }
  const readyPid = pid;
  if (readyPid === undefined || !(await ping(socket ?? port, password))) {
    if (readyPid !== undefined) await killAndWait(readyPid);
    log = await readFile(path.join(dir, 'redis.log'), 'utf8').catch(() => '');
    await rm(dir, { recursive: true, force: true });
    throw new Error(`redis-server on port ${port} did not answer PING: ${log.trim().split('\n').pop() ?? ''}`);
  }
  running.add(readyPid);

  const auth = password !== undefined ? `:${encodeURIComponent(password)}@` : '';
  let stopped: Promise<void> | undefined;
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    pid: readyPid,
    ...(socket ? { socket } : {}),
    stop: () =>
      (stopped ??= (async () => {
        await killAndWait(readyPid);
        running.delete(readyPid);
        await rm(dir, { recursive: true, force: true });
      })()),
  };
}

/**
 * A master, one replica and three sentinels watching it under `name`, all on loopback: a real
 * failover (`SENTINEL FAILOVER name`) in a few seconds (DESIGN §7).
 */
export async function startSentinelSet(name: string): Promise<{ master: RedisServer; replica: RedisServer; sentinels: RedisServer[]; stop(): Promise<void> }> {
  const master = await startRedis();
  const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
  const sentinels: RedisServer[] = [];
  for (let i = 0; i < 3; i++) sentinels.push(await startSentinel(name, master.port));
  return { master, replica, sentinels, stop: async () => void (await Promise.all([master, replica, ...sentinels].map((s) => s.stop()))) };
}

/** One sentinel watching the master at 127.0.0.1:masterPort under `name` (quorum 2, down after 1 s); `args` as for startRedis. */
export async function startSentinel(name: string, masterPort: number, args: string[] = []): Promise<RedisServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await startOn(await freePort(), undefined, args, { name, port: masterPort });
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function readPid(pidfile: string): Promise<number | undefined> {
  const text = await readFile(pidfile, 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** One raw RESP round trip: PONG (or +OK then PONG with a password) means ready. */
function ping(where: number | string, password: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = typeof where === 'string' ? net.connect({ path: where }) : net.connect({ port: where, host: '127.0.0.1' });
    let buf = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => {
      const auth = password !== undefined ? resp(['AUTH', password]) : '';
      sock.write(auth + resp(['PING']));
    });
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('+PONG')) done(true);
      else if (buf.startsWith('-') || buf.includes('\r\n-')) done(false);
    });
  });
}

function resp(argv: string[]): string {
  return `*${argv.length}\r\n` + argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
}

/** A zombie still answers kill(pid, 0): treat state Z as exited. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function killAndWait(pid: number): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  for (let i = 0; i < 200 && alive(pid); i++) await sleep(25);
  if (alive(pid)) {
    signal('SIGKILL');
    for (let i = 0; i < 200 && alive(pid); i++) await sleep(25);
  }
  if (alive(pid)) throw new Error(`redis-server pid ${pid} did not exit`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
