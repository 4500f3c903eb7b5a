import type { Instance, ConnErrorKind } from './instance.js';
import type { ServerSetting } from './settings.js';

/** Everything the postgres kind looks at, as plain data (fixtures are this shape). */
export interface PgObserved {
  instance: Instance;
  /** uid of instance.osUser on this machine; null when the user does not exist. */
  osUid: number | null;
  dataDir: {
    /** missing · empty · cluster (has PG_VERSION) · other (files, but not a data directory) */
    state: 'missing' | 'empty' | 'cluster' | 'other';
    uid: number | null;
    /** Owner's name when known. */
    owner?: string | null;
    standbySignal: boolean;
    /** From pg_controldata when the server is stopped. */
    systemIdentifier?: string | null;
  };
  /** `postgres -V` of instance.bin, e.g. 150004; null when the binaries are missing. */
  binVersion: number | null;
  /** The server answering on the instance's socket and port, when it is ours and runs. */
  server: PgServer | null;
  /** Why the server did not answer (not running, or another cluster holds the port). */
  serverError?: string;
  /** Another process (or another cluster) listens on the instance's port. */
  portInUse?: string;
  /** The hba file's bytes (from SHOW hba_file), when the server runs. */
  hba: { path: string; text: string } | null;
  /** role standby: the primary as seen through a replication connection with the spec's password. */
  primary?: { systemIdentifier: string } | { error: string; kind: ConnErrorKind };
}

export interface PgServer {
  version: number;
  inRecovery: boolean;
  systemIdentifier: string;
  dataDirectory: string;
  configFile: string;
  hbaFile: string;
  settings: Record<string, ServerSetting>;
  /**
   * Of the stored password only what is needed to check a candidate: the SCRAM salt and iteration
   * count (null for md5) and a sha256 of the whole stored value.
   */
  roles: Record<string, { login: boolean; replication: boolean; superuser: boolean; password: StoredPassword | null }>;
  slots: { name: string; type: string; active: boolean }[];
  hbaErrors: { line: number; error: string }[];
  walReceiver: { status: string; senderHost: string | null; senderPort: number | null } | null;
  /** primary_conninfo without its password; the password only as a sha256 to compare with the spec's. */
  /** passwordHmac: the password's HMAC under the host's digest key (see host/digest.ts). */
  conninfo: { params: Record<string, string>; passwordHmac: string | null } | null;
}

export interface StoredPassword {
  iterations: number | null;
  salt: string | null;
  sha256: string;
}
