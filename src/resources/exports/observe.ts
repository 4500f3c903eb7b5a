import type { ObserveContext } from '../types.js';
import type { FileStat } from '../../host/host.js';
import { parseExportfsV, type LiveExport } from './parse.js';
import { addressPath, EXPORTS_FILE } from './diff.js';

export interface ExportsObserved {
  /** /etc/exports as it is, null when missing. */
  file: string | null;
  /** Each export directory the spec or the state names, by path. */
  dirs: Record<string, FileStat | null>;
  users: Record<string, number>;
  groups: Record<string, number>;
  /** The kernel's export table (`exportfs -v`); null under --root or without exportfs. */
  live: LiveExport[] | null;
  liveError?: string;
}

/** One read of /etc/exports, one lstat per export directory, one `exportfs -v` on a live host. */
export async function observeExports(ctx: ObserveContext): Promise<ExportsObserved> {
  const { host, spec } = ctx;
  const paths = new Set([...(spec.exports ?? []).map((e) => e.path), ...ctx.owned.map(addressPath)]);
  const [file, accounts, live, dirEntries] = await Promise.all([
    host.readText(EXPORTS_FILE),
    ctx.accounts(),
    host.offline ? Promise.resolve(null) : host.exec(['exportfs', '-v'], { timeoutMs: 15_000 }),
    Promise.all([...paths].map(async (p) => [p, await host.lstat(p)] as const)),
  ]);
  const observed: ExportsObserved = {
    file,
    dirs: Object.fromEntries(dirEntries),
    users: Object.fromEntries(accounts.users),
    groups: Object.fromEntries(accounts.groups),
    live: null,
  };
  if (live) {
    if (live.ok) observed.live = parseExportfsV(live.stdout);
    else observed.liveError = live.failedToStart ? 'exportfs is not installed' : live.stderr.trim();
  }
  return observed;
}
