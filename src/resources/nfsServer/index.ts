import type { ObserveContext, ResourceKind } from '../types.js';
import { readOwed } from '../../host/owed.js';
import { ADDRESS, diffNfsServer, LEGACY_OWED_MARKER, NFS_DEFAULTS_FILE, NFS_SERVER_UNIT, type NfsServerObserved } from './diff.js';

export type { NfsServerObserved } from './diff.js';

export const nfsServerKind: ResourceKind<NfsServerObserved> = {
  name: 'nfsServer',
  async observe({ host, spec, owned }: ObserveContext) {
    if (spec.nfsServer?.mountdPort === undefined && !owned.includes(ADDRESS)) return { file: null };
    if (host.offline) return { file: await host.readText(NFS_DEFAULTS_FILE) };
    const [file, owed, legacyMarker] = await Promise.all([host.readText(NFS_DEFAULTS_FILE), readOwed(host), host.exists(LEGACY_OWED_MARKER)]);
    return { file, ...(owed[NFS_SERVER_UNIT] || legacyMarker ? { restartOwed: true } : {}), ...(legacyMarker ? { legacyMarker: true } : {}) };
  },
  diff: diffNfsServer,
};
