import type { ResourceKind, DiffInput, DiffOutput, ObserveContext } from '../types.js';
import type { Change } from '../../plan/types.js';
import { fileDiff } from '../../plan/filediff.js';
import { sha256 } from '../../apply/ops.js';

export const NFS_DEFAULTS_FILE = '/etc/default/nfs-kernel-server';
const ADDRESS = 'nfsServer';

export interface NfsServerObserved {
  file: string | null;
}

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

function unquote(v: string): string {
  const t = v.trim();
  return /^(["']).*\1$/.test(t) ? t.slice(1, -1) : t;
}

export function diffNfsServer({ spec, observed }: DiffInput<NfsServerObserved>): DiffOutput {
  const port = spec.nfsServer?.mountdPort;
  if (port === undefined) return { changes: [], observedByAddress: {}, managed: [] };
  const before = observed.file;
  const after = pinMountdPort(before ?? '', port);
  const changes: Change[] = [];
  if (after !== before) {
    changes.push({
      address: ADDRESS,
      kind: 'nfsServer',
      action: before === null ? 'create' : 'update',
      risk: 'restart',
      summary: `pin rpc.mountd to port ${port} and restart the NFS server`,
      diff: fileDiff(NFS_DEFAULTS_FILE, before, after),
      steps: [
        { id: `file:${NFS_DEFAULTS_FILE}`, op: 'file.write', title: `write ${NFS_DEFAULTS_FILE}`, args: { path: NFS_DEFAULTS_FILE, content: after, before: before === null ? null : sha256(before) } },
        { id: 'exec:restart nfs-kernel-server', op: 'exec', title: 'systemctl restart nfs-kernel-server', live: true, after: [`file:${NFS_DEFAULTS_FILE}`, 'exec:exportfs -ra'], args: { argv: ['systemctl', 'restart', 'nfs-kernel-server'] } },
      ],
    });
  }
  return { changes, observedByAddress: { [ADDRESS]: { file: before === null ? null : sha256(before) } }, managed: [ADDRESS] };
}

export const nfsServerKind: ResourceKind<NfsServerObserved> = {
  name: 'nfsServer',
  async observe({ host, spec }: ObserveContext) {
    return { file: spec.nfsServer?.mountdPort === undefined ? null : await host.readText(NFS_DEFAULTS_FILE) };
  },
  diff: diffNfsServer,
};
