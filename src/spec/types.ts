import type { MountSpec } from '../resources/mounts/types.js';

/** The host spec (v1) after validation against schemas/host-spec.schema.json. */
export type SecretRef = { env: string } | { file: string };

export interface DirectorySpec {
  owner?: string | number;
  group?: string | number;
  mode?: string;
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

export interface HostSpec {
  apiVersion?: string;
  host: string;
  timezone?: string;
  exports?: ExportSpec[];
  nfsServer?: { mountdPort?: number };
  mounts?: MountSpec[];
  watchdog?: { stepTimeout?: string };
  lock?: { redis?: SecretRef; ttl?: string; wait?: string };
  [key: string]: unknown;
}
