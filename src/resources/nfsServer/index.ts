import type { ObserveContext, ResourceKind } from '../types.js';
import { ADDRESS, diffNfsServer, NFS_DEFAULTS_FILE, OWED_MARKER, type NfsServerObserved } from './diff.js';

export type { NfsServerObserved } from './diff.js';

export const nfsServerKind: ResourceKind<NfsServerObserved> = {
  name: 'nfsServer',
  async observe({ host, spec, owned }: ObserveContext) {
    if (spec.nfsServer?.mountdPort === undefined && !owned.includes(ADDRESS)) return { file: null };
    const [file, owed] = await Promise.all([host.readText(NFS_DEFAULTS_FILE), host.offline ? false : host.exists(OWED_MARKER)]);
    return { file, ...(owed ? { restartOwed: true } : {}) };
  },
  diff: diffNfsServer,
};
