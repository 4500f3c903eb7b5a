import * as path from 'node:path';
import type { Diagnostic } from '../../errors.js';
import type { ExportClientSpec, ExportSpec } from '../../spec/types.js';
import { addressesSeenBy, finding, findServer, nearestHost, where, type FleetView } from './view.js';
import { inNetwork, parseIp } from './net.js';

/**
 * DESIGN §8.3, NFS: every NFS mount of a fleet host against its server's merged exports. The
 * export is the longest path prefix of the mount's remote path (NFSv4: below the fsid=0 export);
 * the client entry that admits it is chosen by exports(5) precedence, by the client's address on
 * the server's subnet. Verdicts: error, or a warning when it needs DNS or a netgroup (unknown).
 */
export function nfsChecks(view: FleetView): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const [name, m] of view.merged) {
    const client = view.fleet.hosts.get(name);
    if (!client) continue;
    (m.value.mounts ?? []).forEach((mount, i) => {
      if (!/^nfs4?$/.test(mount.type) || mount.state === 'absent') return;
      const source = parseSource(mount.source);
      if (!source) return;
      const at = ['mounts', i, 'source'];
      const found = findServer(view, source.server);
      if (found.kind === 'external') return;
      if (found.kind === 'none') {
        out.push(finding(m, at, `mounts[${mount.path}]: server ${source.server} is neither a fleet host nor external in ${view.fleet.file.display}; not checked${nearestHost(view, source.server)}`, 'warning'));
        return;
      }
      const server = found.host;
      const sm = view.merged.get(server.name);
      if (!sm) return; // its own spec failed, and said so
      const options = mount.options ?? [];
      const exports = (sm.value.exports ?? []).map((e, j) => ({ e, j })).filter(({ e }) => e.state !== 'absent');
      let remote = path.posix.normalize(source.path);
      if (mount.type === 'nfs4' || options.some((o) => /^(nfs)?vers=4/.test(o))) {
        // NFSv4 paths are relative to the pseudo-root, the export with fsid=0 where there is one.
        const root = exports.find(({ e }) => (e.clients ?? []).some((c) => (c.options ?? []).some((o) => o === 'fsid=0' || o === 'fsid=root')));
        if (root) remote = path.posix.join(root.e.path, remote);
      }
      const candidates = exports.filter(({ e }) => remote === e.path || remote.startsWith(e.path === '/' ? '/' : `${e.path}/`));
      const best = candidates.sort((a, b) => b.e.path.length - a.e.path.length)[0];
      const serverFile = sm.hostFile.file.display;
      if (!best) {
        out.push(finding(m, at, `mounts[${mount.path}]: ${server.name} exports no directory containing ${remote} (${serverFile})`, 'error'));
        return;
      }
      const exportAt = where(sm, ['exports', best.j]);
      const seen = addressesSeenBy(client, server);
      const admit = admitting(best.e, seen, [name, ...client.names]);
      if (admit.verdict === 'unknown') {
        out.push(finding(m, at, `mounts[${mount.path}]: whether ${server.name}'s export ${best.e.path} (${exportAt}) admits ${name} is unknown: ${admit.reason}`, 'warning'));
        return;
      }
      if (admit.verdict === 'none') {
        out.push(finding(m, at, `mounts[${mount.path}]: ${server.name}'s export ${best.e.path} (${exportAt}) admits no client entry for ${name} (${seen.join(', ')})`, 'error'));
        return;
      }
      const entry = admit.client;
      const through = `mounts[${mount.path}]`;
      view.uses?.push({ server: server.name, what: 'export', address: `exports[${best.e.path}]`, by: name, through }, { server: server.name, what: 'export client', address: `exports[${best.e.path}].clients[${entry.host}]`, by: name, through });
      const entryAt = where(sm, ['exports', best.j, 'clients', admit.index]);
      const eopts = entry.options ?? [];
      const exportRo = eopts.includes('ro') || !eopts.includes('rw');
      if (exportRo && options.includes('rw')) {
        out.push(finding(m, ['mounts', i, 'options', options.indexOf('rw')], `mounts[${mount.path}]: mounts read-write, but ${server.name} exports ${best.e.path} read-only to ${entry.host} (${entryAt})`, 'error'));
      } else if (exportRo && !options.includes('ro')) {
        out.push(finding(m, at, `mounts[${mount.path}]: ${server.name} exports ${best.e.path} read-only to ${entry.host} (${entryAt}); add ro to the mount's options`, 'warning'));
      }
      const mountSec = options.find((o) => o.startsWith('sec='))?.slice(4) ?? 'sys';
      const exportSec = eopts.find((o) => o.startsWith('sec='))?.slice(4).split(':') ?? ['sys'];
      if (!exportSec.includes(mountSec)) {
        out.push(finding(m, at, `mounts[${mount.path}]: sec=${mountSec}, but ${server.name} exports ${best.e.path} to ${entry.host} with sec=${exportSec.join(':')} (${entryAt})`, 'error'));
      }
    });
  }
  return out;
}

/** `server:/path`, `[v6]:/path`. */
function parseSource(source: string): { server: string; path: string } | undefined {
  const m = /^\[([^\]]+)\]:(\/.*)$/.exec(source) ?? /^([^:/\s]+):(\/.*)$/.exec(source);
  return m ? { server: m[1]!, path: m[2]! } : undefined;
}

type ClientKind = 'host' | 'network' | 'wildcard' | 'netgroup' | 'anonymous';
const PRECEDENCE: ClientKind[] = ['host', 'network', 'wildcard', 'netgroup', 'anonymous'];

function kindOf(host: string): ClientKind {
  if (host === '*') return 'anonymous';
  if (host.startsWith('@')) return 'netgroup';
  if (host.includes('/')) return 'network';
  if (/[*?[]/.test(host)) return 'wildcard';
  return 'host';
}

/**
 * exports(5): single hosts, then networks, wildcards, netgroups, `*`; line order within a kind.
 * An entry that only DNS or NIS could decide, standing before the match, makes the verdict unknown.
 */
function admitting(e: ExportSpec, addresses: string[], names: string[]): { verdict: 'ok'; client: ExportClientSpec; index: number } | { verdict: 'none' } | { verdict: 'unknown'; reason: string } {
  const lower = names.map((n) => n.toLowerCase());
  const clients = (e.clients ?? []).map((c, index) => ({ c, index, kind: kindOf(c.host) }));
  let unknown: string | undefined;
  for (const kind of PRECEDENCE) {
    for (const { c, index } of clients.filter((x) => x.kind === kind)) {
      const match = clientMatches(c.host, addresses, lower);
      if (match === true) return unknown ? { verdict: 'unknown', reason: unknown } : { verdict: 'ok', client: c, index };
      if (match === 'unknown') unknown ??= kind === 'netgroup' ? `the netgroup ${c.host} comes first and needs NIS` : `${c.host} comes first and needs DNS`;
    }
  }
  return unknown ? { verdict: 'unknown', reason: unknown } : { verdict: 'none' };
}

/**
 * Whether one exports(5) client entry names a host with these addresses and (lower-case) names:
 * `unknown` when only DNS or NIS could say (a name that is none of the host's, a netgroup).
 */
export function clientMatches(client: string, addresses: string[], lowerNames: string[]): boolean | 'unknown' {
  const kind = kindOf(client);
  const h = client.toLowerCase();
  if (kind === 'anonymous') return true;
  if (kind === 'network') return addresses.some((a) => inNetwork(a, client));
  if (kind === 'host') return addresses.includes(client) || lowerNames.includes(h) ? true : parseIp(client) ? false : 'unknown';
  if (kind === 'wildcard') return lowerNames.some((n) => globMatch(h, n)) ? true : 'unknown';
  return 'unknown';
}

function globMatch(glob: string, name: string): boolean {
  const re = new RegExp(`^${glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(name);
}
