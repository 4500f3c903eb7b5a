import type { DiffInput, DiffOutput } from '../types.js';
import type { Change } from '../../plan/types.js';
import { exec, fileRemove, fileWrite, oweRestart, settleRestart } from '../../plan/steps.js';
import { EXPORTFS_ID } from '../exports/ids.js';
import { observedEntry, risk } from './risk.js';
import { pinMountdPort, unpinMountdPort } from './defaults.js';
import { fileDiff } from '../../plan/filediff.js';
import { sha256 } from '../../hash.js';

export { pinMountdPort, unpinMountdPort };

export const NFS_DEFAULTS_FILE = '/etc/default/nfs-kernel-server';
export const ADDRESS = 'nfsServer';

export interface NfsServerObserved {
  file: string | null;
  /** An earlier apply wrote the file but did not get to restart the server (src/host/owed.ts). */
  restartOwed?: boolean;
  /** The debt is (also) the marker file of versions before the shared ledger; removed once the restart ran. */
  legacyMarker?: boolean;
}

/** The unit whose restart the defaults file owes, in the ledger of restarts owed (src/host/owed.ts). */
export const NFS_SERVER_UNIT = 'nfs-kernel-server.service';
/** Where versions before that ledger noted the same debt; still honoured, removed after the restart. */
export const LEGACY_OWED_MARKER = '/var/lib/reconcile/nfs-server.restart-owed';

/**
 * Cases: a port in the spec -> pin it; no port but reconcile pinned one (owned: the pin was its
 * own, not one it changed) -> take the pin out again, so mountd goes back to a port of its
 * choosing; neither -> nothing.
 */
export function diffNfsServer({ spec, observed, owned }: DiffInput<NfsServerObserved>): DiffOutput {
  const port = spec.nfsServer?.mountdPort;
  const unpin = port === undefined && owned.includes(ADDRESS);
  if (port === undefined && !unpin) return { changes: [], observedByAddress: {}, managed: [] };
  const before = observed.file;
  const after = port === undefined ? unpinMountdPort(before ?? '') : pinMountdPort(before ?? '', port);
  const changes: Change[] = [];
  const seen = observedEntry(observed, ADDRESS, spec.nfsServer);
  const judged = risk(seen.entry, spec.nfsServer, seen.context);
  const owe = oweRestart({ unit: NFS_SERVER_UNIT, verb: 'restart' }, { title: 'note the NFS server restart this change owes' });
  const restart = exec(['systemctl', 'restart', 'nfs-kernel-server'], { id: 'exec:restart nfs-kernel-server', live: true, after: [`file:${NFS_DEFAULTS_FILE}`, EXPORTFS_ID, owe.id] });
  const settle = [
    settleRestart({ unit: NFS_SERVER_UNIT }, { title: 'forget the owed NFS server restart', after: [restart.id] }),
    ...(observed.legacyMarker ? [fileRemove({ path: LEGACY_OWED_MARKER, before: null }, { title: 'remove the owed-restart marker of an earlier version', live: true, after: [restart.id] })] : []),
  ];
  if (after !== before && !(unpin && before === null)) {
    changes.push({
      address: ADDRESS,
      kind: 'nfsServer',
      action: unpin ? 'delete' : before === null ? 'create' : 'update',
      risk: judged.risk,
      summary: unpin ? 'unpin the rpc.mountd port (no longer in the spec) and restart the NFS server' : `pin rpc.mountd to port ${port} and restart the NFS server`,
      diff: fileDiff(NFS_DEFAULTS_FILE, before, after),
      steps: [
        owe,
        fileWrite({ path: NFS_DEFAULTS_FILE, content: after, before: before === null ? null : sha256(before) }, { after: [owe.id] }),
        restart,
        ...settle,
      ],
    });
  } else if (observed.restartOwed) {
    // The file is right, but an apply stopped before the server restarted with it.
    changes.push({ address: ADDRESS, kind: 'nfsServer', action: 'run', risk: judged.risk, summary: 'restart the NFS server, owed since an earlier apply that stopped before it', diff: '', steps: [restart, ...settle] });
  }
  // The pin is reconcile's to take out later only if it put it there: a port someone pinned by hand stays.
  const pinned = before !== null && unpinMountdPort(before) !== before;
  const creates = port !== undefined && !pinned ? { [ADDRESS]: ['port pin'] } : undefined;
  return { changes, observedByAddress: { [ADDRESS]: { file: before === null ? null : sha256(before), restartOwed: !!observed.restartOwed } }, managed: unpin ? [] : [ADDRESS], ...(creates ? { creates } : {}) };
}
