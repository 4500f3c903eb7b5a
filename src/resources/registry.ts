import type { ResourceKind } from './types.js';
import { timezoneKind } from './timezone/index.js';
import { exportsKind } from './exports/index.js';
import { nfsServerKind } from './exports/nfs-server.js';
import { mountsKind } from './mounts/index.js';
import { unitsKind } from './units/index.js';
import { postgresKind } from './postgres/index.js';
import { migrationsKind } from './migrations/index.js';

/** Every kind, in the order their changes are listed. Adding a kind adds one line here. */
export const KINDS: ResourceKind<any>[] = [timezoneKind, exportsKind, nfsServerKind, mountsKind, unitsKind, postgresKind, migrationsKind];

export function kindByName(name: string): ResourceKind<any> | undefined {
  return KINDS.find((k) => k.name === name);
}
