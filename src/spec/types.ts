
/** The host spec (v1) after validation against schemas/host-spec.schema.json. */
export type SecretRef = { env: string } | { file: string };

export interface DirectorySpec {
  owner?: string | number;
  group?: string | number;
  mode?: string;
}

export interface ValidateOptions {
  /** The host's `/` for checks that read the host (tzdata). */
  root?: string;
  /** Security lint findings become errors. */
  strict?: boolean;
  /** The fragment of reconcile's own units that `pull --install-timer` applies: the only spec that may name them. */
  ownUnits?: boolean;
}

export interface ExportClientSpec {
  host: string;
  options?: string[];
}

export interface ExportSpec {
  path: string;
  state?: 'present' | 'absent';
  directory?: DirectorySpec;
  clients: ExportClientSpec[];
}

/** `nfsServer:` in the spec. */
export interface NfsServerSpec {
  mountdPort?: number;
}

/**
 * Exactly the keys of the schema: no index signature, so a misspelt key in the registry or a kind
 * does not compile.
 */
export interface HostSpec {
  apiVersion?: string;
  host: string;
  timezone?: string;
  exports?: ExportSpec[];
  nfsServer?: NfsServerSpec;
  mounts?: MountSpec[];
  units?: UnitSpec[];
  postgres?: PostgresSpec;
  migrations?: MigrationsSpec[];
  ignoreDrift?: { address: string; until: string; reason: string }[];
  watchdog?: { stepTimeout?: string };
  lock?: { redis?: SecretRef; ttl?: string; wait?: string };
}

export interface UnitSpec {
  name: string;
  content?: string;
  dropins?: Record<string, string>;
  exclusiveDropins?: boolean;
  enabled?: boolean;
  masked?: boolean;
  state?: 'running' | 'stopped' | 'absent';
  onChange?: 'restart' | 'reload';
}

export type PostgresInstanceSpec =
  | { version: number; cluster: string }
  | { dataDir: string; port?: number; bin?: string; socketDir?: string; osUser?: string; control?: 'pg_ctl' | 'systemd'; version?: number };

export interface PostgresSpec {
  instance: PostgresInstanceSpec;
  role: 'primary' | 'standby';
  settings?: Record<string, string | number | boolean>;
  users?: { name: string; replication?: boolean; login?: boolean; password?: SecretRef }[];
  hba?: { type: string; database: string; user: string; address?: string; method: string; options?: string }[];
  slots?: string[];
  primary?: { host: string; port?: number; user: string; password: SecretRef; slot?: string };
  restoreCommand?: string;
}

export interface MigrationsSpec {
  name: string;
  database: SecretRef;
  dir: string;
  target?: string;
  allowOutOfOrder?: boolean;
  stamp?: string;
  /** Run again a migration recorded as failed (MySQL), after the database was fixed by hand. */
  retry?: string;
  /** The fleet host whose PostgreSQL holds the database, said without secrets for the checks between hosts. */
  server?: string;
  /** The database on `server` these migrations change. */
  dbname?: string;
}

export type MountState = 'mounted' | 'unmounted' | 'present' | 'absent';

/** CIFS credentials: written to a root-only file; fstab only ever names the file. */
export interface MountCredentials {
  username: string;
  password: SecretRef;
  domain?: string;
}

/** One entry of the spec's `mounts:` list. */
export interface MountSpec {
  path: string;
  source: string;
  type: string;
  options?: string[];
  /** Default `mounted`. */
  state?: MountState;
  dump?: number;
  pass?: number;
  credentials?: MountCredentials;
  /** Unmount with `umount -l` when busy or hung instead of failing. */
  lazyUnmount?: boolean;
}
