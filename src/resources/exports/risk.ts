import { isDeepStrictEqual } from 'node:util';
import { at, worst, type Assessed, type KindRisk } from '../types.js';
import type { ExportSpec } from '../../spec/types.js';
import { exportPath } from './ids.js';
import { effectiveOptions, familyOf, parseExports, type ExportEntry, type LiveExport } from './parse.js';
import type { ExportsObserved } from './observe.js';

export const entries: KindRisk<ExportSpec>['entries'] = (spec) => (spec.exports ?? []).map((e) => [`exports[${exportPath(e.path)}]`, e]);

/** What only a live host shows: the kernel's export table differs from /etc/exports. */
export interface ExportsRiskContext {
  liveDiffers?: boolean;
}

/** /etc/exports' entries and the kernel's table, by path: each change looks up its own in constant time. */
interface Indexed {
  lines: Map<string, ExportEntry[]>;
  live: Map<string, LiveExport[]>;
}
const indexed = new WeakMap<ExportsObserved, Indexed>();

function indexOf(observed: ExportsObserved): Indexed {
  let ix = indexed.get(observed);
  if (!ix) {
    ix = { lines: new Map(), live: new Map() };
    for (const l of parseExports(observed.file ?? '')) if (l.entry) (ix.lines.get(l.entry.path) ?? ix.lines.set(l.entry.path, []).get(l.entry.path)!).push(l.entry);
    for (const l of observed.live ?? []) (ix.live.get(l.path) ?? ix.live.set(l.path, []).get(l.path)!).push(l);
    indexed.set(observed, ix);
  }
  return ix;
}

/**
 * /etc/exports' lines for the address's path (and its directory) as a spec entry: each client with
 * the options it really gets (line defaults applied); undefined when the file has no line for it.
 * Context: on a live host, whether the kernel's table differs from what the spec wants.
 */
export function observedEntry(observed: ExportsObserved, address: string, desired: ExportSpec | undefined, offline = false): { entry: ExportSpec | undefined; context: ExportsRiskContext } {
  const path = address.slice('exports['.length, -1);
  const ix = indexOf(observed);
  const mine = ix.lines.get(path) ?? [];
  const dir = observed.dirs[path] ?? null;
  const liveDiffers = !offline && !!observed.live && !!desired && desired.state !== 'absent' && !liveMatches(ix.live.get(path) ?? [], desired);
  if (!mine.length) return { entry: undefined, context: { liveDiffers } };
  const clients = mine.flatMap((e) => e.clients.map((c) => ({ host: c.host || '*', options: effectiveOptions(e.defaults, c.options) })));
  return { entry: { path, clients, ...(dir ? { directory: { owner: dir.uid, group: dir.gid, mode: `0${(dir.mode & 0o7777).toString(8)}` } } : {}) }, context: { liveDiffers } };
}

/**
 * exportfs -v prints only some option families (it omits `insecure`, for one); an option is
 * checked only when the live table shows its family at all.
 */
export function liveMatches(live: LiveExport[], want: ExportSpec): boolean {
  for (const c of want.clients ?? []) {
    const entry = live.find((l) => l.host === (c.host || '*'));
    if (!entry) return false;
    const liveByFamily = new Map(entry.options.map((o) => [familyOf(o), o]));
    for (const o of effectiveOptions([], c.options ?? [])) {
      const seen = liveByFamily.get(familyOf(o));
      if (seen !== undefined && seen !== o) return false;
    }
  }
  return true;
}

/** Clients in order (the first match wins in exportfs), each with its options as a set. */
const clientsOf = (e: ExportSpec) => (e.clients ?? []).map((c) => [c.host || '*', effectiveOptions([], c.options ?? [])]);

export function risk(b: ExportSpec | undefined, a: ExportSpec | undefined, context: ExportsRiskContext = {}): Assessed {
  if (!b && a) return a.state === 'absent' ? at('disruptive', 'state absent: clients lose access if it is exported') : at('reload', 'new export: exportfs -ra');
  if (b && !a) return b.state === 'absent' ? at('none', 'no such export') : at('disruptive', 'export leaves the spec: clients lose access');
  if (!b || !a) return at('none');
  if (a.state === 'absent') return b.state === 'absent' ? at('none', 'no such export') : at('disruptive', 'state absent: clients lose access');
  if (b.state === 'absent') return at('reload', 'new export: exportfs -ra');
  const found: Assessed[] = [];
  const hosts = (e: ExportSpec) => new Set((e.clients ?? []).map((c) => c.host || '*'));
  const gone = [...hosts(b)].filter((h) => !hosts(a).has(h));
  if (gone.length) found.push(at('disruptive', `clients lose access: ${gone.join(', ')}`));
  if (!isDeepStrictEqual(clientsOf(b), clientsOf(a))) found.push(at('reload', 'clients or options changed: exportfs -ra'));
  if (context.liveDiffers) found.push(at('reload', "the kernel's export table differs from /etc/exports: exportfs -ra"));
  if (!isDeepStrictEqual(b.directory, a.directory)) found.push(at('none', 'directory owner or mode changed'));
  return found.length ? worst(found) : at('none', 'changed');
}
