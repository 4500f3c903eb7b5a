/**
 * Real MariaDB servers for tests (DESIGN §7): mariadb-install-db into a temp data directory, then
 * mariadbd as the mysql OS user on a free loopback port with its socket in the temp dir; stopped by
 * its pid (never by name) in stop() and at exit. A missing binary fails the test, naming the package.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from './pg.js';

const INSTALL_DB = process.env.MARIADB_INSTALL_DB ?? '/usr/bin/mariadb-install-db';
const MARIADBD = process.env.MARIADBD ?? '/usr/sbin/mariadbd';
const CLIENT = process.env.MARIADB_CLIENT ?? '/usr/bin/mariadb';
const OS_USER = 'mysql';

export interface MariaDb {
  dir: string;
  socket: string;
  port: number;
  pid: number;
  /** The password of the `reconcile` user (TCP, mysql_native_password). */
  password: string;
  /** mysql://reconcile:PASSWORD@127.0.0.1:PORT/DB */
  url(db: string, scheme?: 'mysql' | 'mariadb'): string;
  /** Runs SQL as root over the socket; tab-separated rows, no header. */
  sql(query: string, db?: string): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) {
    try {
      p.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

export async function startMariaDb(): Promise<MariaDb> {
  for (const bin of [INSTALL_DB, MARIADBD, CLIENT]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: install the mariadb-server package (apt-get install -y mariadb-server; .ci/run does)`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-mariadb-'));
  const uid = Number(execFileSync('id', ['-u', OS_USER], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', OS_USER], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid);
  const dataDir = path.join(dir, 'data');
  const socket = path.join(dir, 'mysqld.sock');
  const install = spawnSync(INSTALL_DB, ['--no-defaults', `--user=${OS_USER}`, `--datadir=${dataDir}`, '--auth-root-authentication-method=socket', '--skip-test-db'], { encoding: 'utf8', timeout: 120_000 });
  if (install.status !== 0) throw new Error(`mariadb-install-db: exit ${install.status}\n${install.stdout}\n${install.stderr}`);

  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const log = path.join(dir, `mariadbd-${attempt}.log`);
    const child = spawn(
      MARIADBD,
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        `--socket=${socket}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--user=${OS_USER}`,
        `--pid-file=${path.join(dir, 'mariadbd.pid')}`,
        `--log-error=${log}`,
        '--skip-log-bin',
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=16M',
        '--innodb-flush-log-at-trx-commit=0',
      ],
      { stdio: 'ignore' },
    );
    running.add(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await waitReady(socket, child, log);
    } catch (e) {
      lastError = e;
      child.kill('SIGKILL');
      await exited;
      running.delete(child);
      continue;
    }
    const password = `pw-${Math.random().toString(36).slice(2, 12)}`;
    const sql = (query: string, db?: string) => {
      const r = spawnSync(CLIENT, ['--no-defaults', `--socket=${socket}`, '-u', 'root', '-N', '-B', ...(db ? [db] : []), '-e', query], { encoding: 'utf8', timeout: 60_000 });
      if (r.status !== 0) throw new Error(`mariadb -e ${JSON.stringify(query)}: exit ${r.status}\n${r.stderr}`);
      return r.stdout.trim();
    };
    sql(`CREATE USER 'reconcile'@'127.0.0.1' IDENTIFIED BY '${password}'; GRANT ALL ON *.* TO 'reconcile'@'127.0.0.1'`);
    return {
      dir,
      socket,
      port,
      pid: child.pid!,
      password,
      url: (db, scheme = 'mysql') => `${scheme}://reconcile:${password}@127.0.0.1:${port}/${db}`,
      sql,
      stop: async () => {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
          await exited;
          clearTimeout(timer);
        }
        running.delete(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

async function waitReady(socket: string, child: ChildProcess, log: string): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`mariadbd exited with ${child.exitCode}:\n${tail(log)}`);
    const r = spawnSync(CLIENT, ['--no-defaults', `--socket=${socket}`, '-u', 'root', '-N', '-e', 'SELECT 1'], { encoding: 'utf8', timeout: 10_000 });
    if (r.status === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`mariadbd did not accept connections within 60 s:\n${tail(log)}`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}
