import type { DiffInput, DiffOutput } from '../types.js';
import type { Change } from '../../plan/types.js';
import { exec, fileRemove, fileWrite } from '../../plan/steps.js';
import { EXPORTFS_ID } from '../exports/ids.js';
import { fileDiff } from '../../plan/filediff.js';
import { sha256 } from '../../hash.js';

export const NFS_DEFAULTS_FILE = '/etc/default/nfs-kernel-server';
export const ADDRESS = 'nfsServer';

export interface NfsServerObserved {
  file: string | null;
  /** An earlier apply wrote the file but did not get to restart the server (see OWED_MARKER). */
  restartOwed?: boolean;
}

/**
 * Written (live hosts only) before the defaults file and removed after the restart: if the apply
 * stops in between, the next plan still sees a restart owed, although the file is in sync.
 */
export const OWED_MARKER = '/var/lib/reconcile/nfs-server.restart-owed';

/**
 * Pins `--port N` inside RPCMOUNTDOPTS, keeping its other flags and every other line.
 * Returns the file unchanged when the port is already pinned.
 */
export function pinMountdPort(text: string, port: number): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => /^\s*RPCMOUNTDOPTS=/.test(l));
  const current = i === -1 ? '' : unquote(lines[i]!.replace(/^\s*RPCMOUNTDOPTS=/, ''));
  const flags = current.split(/\s+/).filter(Boolean);
  const kept: string[] = [];
  for (let k = 0; k < flags.length; k++) {
    const f = flags[k]!;
    if (f === '--port' || f === '-p') k++; // drop the flag and its value
    else if (!f.startsWith('--port=')) kept.push(f);
  }
  const value = [...kept, '--port', String(port)].join(' ');
  if (i !== -1 && current.split(/\s+/).filter(Boolean).join(' ') === value) return text;
  const line = `RPCMOUNTDOPTS="${value}"`;
  if (i === -1) {
    const body = text === '' || text.endsWith('\n') ? text : `${text}\n`;
    return `${body}${line}\n`;
  }
  lines[i] = line;
  return lines.join('\n');
}

/** Takes `--port N` out of RPCMOUNTDOPTS, keeping its other flags and every other line. */
export function unpinMountdPort(text: string): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => /^\s*RPCMOUNTDOPTS=/.test(l));
  if (i === -1) return text;
  const flags = unquote(lines[i]!.replace(/^\s*RPCMOUNTDOPTS=/, '')).split(/\s+/).filter(Boolean);
  const kept = flags.filter((f, k) => !(f === '--port' || f === '-p' || f.startsWith('--port=') || flags[k - 1] === '--port' || flags[k - 1] === '-p'));
  if (kept.length === flags.length) return text;
  lines[i] = `RPCMOUNTDOPTS="${kept.join(' ')}"`;
  return lines.join('\n');
}

function unquote(v: string): string {
  const t = v.trim();
  return /^(["']).*\1$/.test(t) ? t.slice(1, -1) : t;
}

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
  const restart = exec(['systemctl', 'restart', 'nfs-kernel-server'], { id: 'exec:restart nfs-kernel-server', live: true, after: [`file:${NFS_DEFAULTS_FILE}`, EXPORTFS_ID, `owe:${OWED_MARKER}`] });
  const settle = fileRemove({ path: OWED_MARKER, before: null }, { id: `settle:${OWED_MARKER}`, title: 'forget the owed NFS server restart', live: true, after: [restart.id] });
  if (after !== before && !(unpin && before === null)) {
    changes.push({
      address: ADDRESS,
      kind: 'nfsServer',
      action: unpin ? 'delete' : before === null ? 'create' : 'update',
      risk: 'restart',
      summary: unpin ? 'unpin the rpc.mountd port (no longer in the spec) and restart the NFS server' : `pin rpc.mountd to port ${port} and restart the NFS server`,
      diff: fileDiff(NFS_DEFAULTS_FILE, before, after),
      steps: [
        fileWrite({ path: OWED_MARKER, content: 'owed\n', before: null, mode: 0o600 }, { id: `owe:${OWED_MARKER}`, title: 'note the NFS server restart this change owes', live: true }),
        fileWrite({ path: NFS_DEFAULTS_FILE, content: after, before: before === null ? null : sha256(before) }, { after: [`owe:${OWED_MARKER}`] }),
        restart,
        settle,
      ],
    });
  } else if (observed.restartOwed) {
    // The file is right, but an apply stopped before the server restarted with it.
    changes.push({ address: ADDRESS, kind: 'nfsServer', action: 'run', risk: 'restart', summary: 'restart the NFS server, owed since an earlier apply that stopped before it', diff: '', steps: [restart, settle] });
  }
  // The pin is reconcile's to take out later only if it put it there: a port someone pinned by hand stays.
  const pinned = before !== null && unpinMountdPort(before) !== before;
  const creates = port !== undefined && !pinned ? { [ADDRESS]: ['port pin'] } : undefined;
  return { changes, observedByAddress: { [ADDRESS]: { file: before === null ? null : sha256(before), restartOwed: !!observed.restartOwed } }, managed: unpin ? [] : [ADDRESS], ...(creates ? { creates } : {}) };
}
