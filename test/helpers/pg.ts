/**
 * Real PostgreSQL clusters for tests: initdb and pg_ctl from the machine's binaries, run as the
 * postgres OS user (the server refuses root), data and socket directories owned by postgres in
 * a temp dir, a free loopback port. Every cluster started is stopped by stop() and at exit.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, mkdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
export const OS_USER = 'postgres';

export interface Cluster {
  dir: string;
  dataDir: string;
  socketDir: string;
  port: number;
  bin: string;
  /** Superuser connection through the unix socket (run as the postgres OS user). */
  psql(sql: string, options?: { db?: string }): string;
  /** postgres://postgres:PASSWORD@127.0.0.1:PORT/DB over TCP (scram-sha-256, as in production). */
  url(db?: string): string;
  password: string;
  start(): void;
  stop(): void;
  /** Stops the server and removes its directory. */
  destroy(): void;
}

const started = new Set<Cluster>();
process.on('exit', () => {
  for (const c of started) {
    try {
      c.stop();
    } catch {
      // best effort at exit
    }
  }
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const { uid: PG_UID, gid: PG_GID } = (() => {
  const out = execFileSync('id', ['-u', OS_USER], { encoding: 'utf8' }).trim();
  const gid = execFileSync('id', ['-g', OS_USER], { encoding: 'utf8' }).trim();
  return { uid: Number(out), gid: Number(gid) };
})();

export function asPostgres(argv: string[], options: { input?: string; allowFail?: boolean } = {}): string {
  const r = spawnSync('runuser', ['-u', OS_USER, '--', ...argv], { encoding: 'utf8', input: options.input, timeout: 120_000 });
  if (r.status !== 0 && !options.allowFail) throw new Error(`${argv.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

/** A directory owned by postgres under the system temp dir. */
export function pgTempDir(prefix = 'reconcile-pg-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  chownSync(dir, PG_UID, PG_GID);
  return dir;
}

/** Config lines appended to postgresql.conf before the first start. */
export async function startCluster(options: { conf?: string[]; init?: boolean } = {}): Promise<Cluster> {
  const dir = pgTempDir();
  const dataDir = path.join(dir, 'data');
  const socketDir = path.join(dir, 'socket');
  mkdirSync(socketDir);
  chownSync(socketDir, PG_UID, PG_GID);
  const port = await freePort();
  const password = `pw-${Math.random().toString(36).slice(2, 12)}`;
  if (options.init !== false) {
    asPostgres([`${PG_BIN}/initdb`, '-D', dataDir, '-U', 'postgres', '--auth-local=peer', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-sync']);
    appendFileSync(
      path.join(dataDir, 'postgresql.conf'),
      [`port = ${port}`, `listen_addresses = '127.0.0.1'`, `unix_socket_directories = '${socketDir}'`, 'fsync = off', ...(options.conf ?? [])].join('\n') + '\n',
    );
  }
  const cluster: Cluster = {
    dir,
    dataDir,
    socketDir,
    port,
    bin: PG_BIN,
    psql: (sql, o = {}) => asPostgres([`${PG_BIN}/psql`, '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', socketDir, '-p', String(port), '-d', o.db ?? 'postgres', '-c', sql]).trim(),
    password,
    url: (db = 'postgres') => `postgres://postgres:${password}@127.0.0.1:${port}/${db}`,
    start: () => {
      asPostgres([`${PG_BIN}/pg_ctl`, '-D', dataDir, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);
      started.add(cluster);
    },
    stop: () => {
      asPostgres([`${PG_BIN}/pg_ctl`, '-D', dataDir, '-m', 'fast', '-w', '-t', '60', 'stop'], { allowFail: true });
      started.delete(cluster);
    },
    destroy: () => {
      cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (options.init !== false) {
    cluster.start();
    cluster.psql(`ALTER USER postgres PASSWORD '${password}'`);
  }
  return cluster;
}

export function writeAsPostgres(file: string, content: string): void {
  writeFileSync(file, content);
  chownSync(file, PG_UID, PG_GID);
}
