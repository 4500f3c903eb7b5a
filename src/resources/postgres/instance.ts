import * as path from 'node:path';
import type { Host } from '../../host/host.js';
import type { ExecResult } from '../../host/exec.js';
import type { PostgresInstanceSpec } from '../../spec/types.js';
import { renderConninfo } from './conninfo.js';

/**
 * Where an instance lives and how it is driven, resolved once at observe time and carried in step
 * args (so every step of one instance has identical args).
 *
 * Paths are used as the spec gives them, also under --root: a PostgreSQL instance is live state (a
 * running server that reports its own absolute data_directory and config_file), so re-rooting
 * them would make the spec and the server disagree. --root still relocates reconcile's own state
 * and journal.
 */
export interface Instance {
  dataDir: string;
  port: number;
  bin: string;
  socketDir: string;
  osUser: string;
  control: 'pg_ctl' | 'systemd';
  /** systemd control: the unit (Debian: postgresql@V-C). */
  service?: string;
  /** Where the server's startup log goes (pg_ctl -l), or the Debian log file. */
  logFile: string;
  /** Debian layout: /etc/postgresql/V/C. */
  confDir?: string;
}

export const DEFAULT_BIN_ROOT = '/usr/lib/postgresql';

/** `installed`: versions under /usr/lib/postgresql, for an explicit instance without bin or version. */
export function resolveInstance(spec: PostgresInstanceSpec, installed: number[], debianPort?: number): Instance {
  if ('cluster' in spec) {
    const { version: v, cluster: c } = spec;
    return {
      dataDir: `/var/lib/postgresql/${v}/${c}`,
      port: debianPort ?? 5432,
      bin: `${DEFAULT_BIN_ROOT}/${v}/bin`,
      socketDir: '/var/run/postgresql',
      osUser: 'postgres',
      control: 'systemd',
      service: `postgresql@${v}-${c}.service`,
      logFile: `/var/log/postgresql/postgresql-${v}-${c}.log`,
      confDir: `/etc/postgresql/${v}/${c}`,
    };
  }
  const version = spec.version ?? Math.max(...installed, 15);
  const dataDir = spec.dataDir.replace(/\/+$/, '') || '/';
  return {
    dataDir,
    port: spec.port ?? 5432,
    bin: spec.bin ?? `${DEFAULT_BIN_ROOT}/${version}/bin`,
    socketDir: spec.socketDir ?? '/var/run/postgresql',
    osUser: spec.osUser ?? 'postgres',
    control: spec.control ?? 'pg_ctl',
    // Next to the data directory, not in it: a base backup would copy it to the standby.
    logFile: path.join(path.dirname(dataDir), `${path.basename(dataDir)}.log`),
  };
}

/** PostgreSQL refuses to run as root and peer authentication checks the OS user: run as osUser. */
export function asOsUser(inst: Pick<Instance, 'osUser'>, argv: string[]): string[] {
  return process.getuid?.() === 0 ? ['runuser', '-u', inst.osUser, '--', ...argv] : argv;
}

/** Messages of the C locale, so errors can be classified. */
const CLIENT_ENV = { LC_MESSAGES: 'C', LC_ALL: 'C', PGCONNECT_TIMEOUT: '5' };

/** SQL to the local server as its superuser, over the unix socket; SQL goes on stdin, never argv. */
export function psqlLocal(host: Host, inst: Instance, sql: string, timeoutMs = 30_000, inputKey?: string): Promise<ExecResult> {
  const argv = asOsUser(inst, [`${inst.bin}/psql`, '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-h', inst.socketDir, '-p', String(inst.port), '-d', 'postgres']);
  return host.exec(argv, { input: sql, inputKey, timeoutMs, env: CLIENT_ENV, describe: `psql to the local server on port ${inst.port}` });
}

export interface RemoteTarget {
  host: string;
  port: number;
  user: string;
}

/**
 * A client connection to another server (the primary). The password goes in the child's
 * PGPASSWORD, never in argv (argv is world-readable in /proc).
 */
export function psqlRemote(host: Host, inst: Instance, to: RemoteTarget, password: string, sql: string, options: { replication?: boolean; dbname?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  // Quoted as libpq reads them: a value with a blank or a quote stays one value.
  const conninfo = renderConninfo({ host: to.host, port: String(to.port), user: to.user, dbname: options.dbname ?? (options.replication ? 'replication' : 'postgres'), connect_timeout: '5', application_name: 'reconcile', ...(options.replication ? { replication: 'true' } : {}) });
  return host.exec([`${inst.bin}/psql`, '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-d', conninfo, '-c', sql], {
    env: { ...CLIENT_ENV, PGPASSWORD: password },
    timeoutMs: options.timeoutMs ?? 15_000,
    describe: `psql to the primary ${to.host}:${to.port}`,
  });
}

export type ConnErrorKind = 'auth' | 'hba' | 'unreachable' | 'other';

/** Why a connection failed, in one line a human can act on. */
export function classifyConnError(stderr: string, to: RemoteTarget): { kind: ConnErrorKind; message: string } {
  const where = `the primary ${to.host}:${to.port}`;
  const first = stderr.trim().split('\n').map((l) => l.replace(/^(psql|pg_basebackup): (error: )?/, '').trim()).filter(Boolean);
  const text = first.join(' ');
  if (/password authentication failed|no password supplied|SASL authentication failed/.test(text)) {
    return { kind: 'auth', message: `${where} refused the password for user ${to.user} (password authentication failed): check the replication password` };
  }
  if (/no pg_hba\.conf entry/.test(text)) {
    return { kind: 'hba', message: `${where} has no pg_hba.conf entry for replication by user ${to.user} from this host` };
  }
  if (/Connection refused|could not connect|timeout expired|could not translate host name|No route to host|Network is unreachable|server closed the connection/.test(text)) {
    return { kind: 'unreachable', message: `${where} is unreachable (${first.find((l) => /refused|timeout|translate|route|unreachable|closed/.test(l)) ?? first[0] ?? 'no answer'})` };
  }
  return { kind: 'other', message: `${where}: ${first.slice(-2).join(' ') || 'connection failed'}` };
}

/** The last lines of the instance's log, for a failure report. */
export async function logTail(host: Host, inst: Instance, lines = 15): Promise<string> {
  const text = await host.readText(inst.logFile).catch(() => null);
  if (text === null) return `(no log at ${inst.logFile})`;
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
