import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Diagnostic } from '../errors.js';
import { LoadedSpec, type PathSegment } from '../spec/load.js';
import type { HostSpec } from '../spec/types.js';
import { ENTRY_MERGE_KEYS, KEY_ORDER, MERGE_KEYS, MERGE_RULES, type MergeRule } from './addresses.js';
import { diagnosticIn, isInside, readYamlFile, realPath, withoutExtensionKeys, type YamlFile } from './files.js';
import { compareAddresses, type Fleet, type FleetHost, type Said } from './inventory.js';
import { formatPosition } from './origins.js';
import { fragmentSchemaDiagnostics } from './schema.js';

/** DESIGN §8.2: includes nest at most this deep (the host file is depth 0). */
export const MAX_INCLUDE_DEPTH = 8;

/** A host file or a fragment, loaded once per run however many hosts include it. */
export interface Source {
  file: YamlFile;
  kind: 'host' | 'fragment';
  /** The file without its merge keys and x- keys. */
  spec: Record<string, unknown>;
  defaults: boolean;
  /** Diagnostics of the file alone (YAML, schema); include errors are the including host's. */
  diagnostics: Diagnostic[];
}

/** What a merge may reach and the fragments already loaded (shared by every host of a run). */
export interface MergeContext {
  /** Includes may not leave this directory (the fleet's root, or the repository's). */
  root: string;
  fleet?: Fleet;
  sources: Map<string, Source>;
}

export function mergeContext(root: string, fleet?: Fleet): MergeContext {
  return { root: realPath(root), fleet, sources: new Map() };
}

/** Where a merged value came from; `overrides` is the nearest value it replaced. */
export interface Origin {
  said: Said;
  overrides?: Said;
  /** An entry (an address), not a field of one. */
  entry?: boolean;
}

export interface MergedSpec {
  host: string;
  hostFile: Source;
  value: HostSpec;
  /** The merged value's paths (JSON pointer segments) to where each entry and field was said. */
  origins: Map<string, Origin>;
  /** Address or address.field -> origin, for `reconcile spec` and its JSON. */
  addressOrigins: Map<string, Origin>;
  /** Every file the merged spec was made from, in merge order (the host file last). */
  sources: Source[];
  diagnostics: Diagnostic[];
}

export const pathKey = (p: PathSegment[]) => JSON.stringify(p);

/**
 * The host's spec with its groups' and its own includes merged (DESIGN §8.2). Diagnostics point at
 * the file that holds the value and name the host that included it.
 */
export function mergeHost(specFile: string, ctx: MergeContext, fleetHost?: FleetHost): MergedSpec {
  const abs = path.resolve(specFile);
  const hostSource = loadSource(abs, 'host', ctx);
  const diagnostics: Diagnostic[] = [...hostSource.diagnostics];
  const hostName = typeof hostSource.file.value.host === 'string' ? hostSource.file.value.host : fleetHost?.name ?? path.basename(abs, '.yaml');
  const merged: MergedSpec = { host: hostName, hostFile: hostSource, value: { host: hostName }, origins: new Map(), addressOrigins: new Map(), sources: [], diagnostics };
  if (hasErrors(diagnostics)) return finish(merged);
  if (fleetHost && hostSource.file.value.host !== fleetHost.name) {
    diagnostics.push(diagnosticIn(hostSource.file, ['host'], `host: "${String(hostSource.file.value.host)}" differs from its name in the fleet, ${fleetHost.name} (${formatPosition(fleetHost.said, { key: true })})`));
    return finish(merged);
  }

  // The include graph, depth first; each file once, in merge order (its includes before it).
  const order: Source[] = [];
  const edges = new Map<Source, Source[]>();
  const placed = new Set<Source>();
  const visit = (src: Source, includes: { path: string; said: Said; base: string }[], depth: number, trail: string[]) => {
    const children: Source[] = [];
    for (const inc of includes) {
      const target = resolveInclude(inc, ctx, diagnostics);
      if (!target) continue;
      if (trail.includes(target)) {
        const cycle = [...trail.slice(trail.indexOf(target)), target].map((t) => ctx.sources.get(t)?.file.display ?? t);
        diagnostics.push(diagnosticIn(inc.said.file, inc.said.at, `include cycle: ${cycle.join(' → ')}`));
        continue;
      }
      if (depth + 1 > MAX_INCLUDE_DEPTH) {
        diagnostics.push(diagnosticIn(inc.said.file, inc.said.at, `include ${inc.path}: includes nest deeper than ${MAX_INCLUDE_DEPTH}`));
        continue;
      }
      let child: Source;
      try {
        child = loadSource(target, 'fragment', ctx);
      } catch (e) {
        diagnostics.push(diagnosticIn(inc.said.file, inc.said.at, `include ${inc.path}: ${(e as Error).message}`));
        continue;
      }
      children.push(child);
      if (placed.has(child)) continue;
      diagnostics.push(...child.diagnostics);
      placed.add(child);
      visit(child, includesOf(child), depth + 1, [...trail, target]);
      order.push(child);
    }
    edges.set(src, [...(edges.get(src) ?? []), ...children]);
  };
  const groupIncludes = (fleetHost?.groups ?? []).flatMap((g) => ctx.fleet?.groups.get(g)?.include.map((i) => ({ path: i.path, said: i.said, base: ctx.root })) ?? []);
  placed.add(hostSource);
  visit(hostSource, [...groupIncludes, ...includesOf(hostSource)], 0, [abs]);
  order.push(hostSource);
  merged.sources = order;
  if (hasErrors(diagnostics)) return finish(merged);

  const reach = reachability(order, edges);
  const dominates = (a: Source, b: Source) => a !== b && (reach.get(a)!.has(b) || (b.defaults && !a.defaults && b.kind !== 'host'));
  const entries = order.flatMap((src, i) => flatten(src, i, hostSource, diagnostics));
  applyExcludes(entries, order, reach, diagnostics);
  assemble(merged, entries, dominates, ctx);
  return finish(merged);
}

function hasErrors(ds: Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error');
}

/** Says, on each diagnostic in another file, which host's merge found it. */
function finish(merged: MergedSpec): MergedSpec {
  const own = merged.hostFile.file.display;
  merged.diagnostics = dedupe(merged.diagnostics).map((d) => (d.file === own ? d : { ...d, message: `${d.message} (included by host ${merged.host})` }));
  return merged;
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.file}:${d.line}:${d.col}:${d.message}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

function loadSource(abs: string, kind: Source['kind'], ctx: MergeContext): Source {
  const cached = ctx.sources.get(abs);
  if (cached && cached.kind === kind) return cached;
  if (!existsSync(abs)) throw new Error('no such file');
  if (!statSync(abs).isFile()) throw new Error('not a regular file');
  const file = readYamlFile(abs, kind === 'host' ? 'a host spec' : 'a fragment');
  const source: Source = { file, kind, spec: {}, defaults: file.value.defaults === true, diagnostics: [...file.diagnostics] };
  ctx.sources.set(abs, source);
  if (hasErrors(source.diagnostics)) return source;
  const { host, ...rest } = file.value;
  if (kind === 'fragment' && host !== undefined) {
    source.diagnostics.push(diagnosticIn(file, ['host'], 'a fragment has no host: key; hosts include it', { key: true }));
    return source;
  }
  if (kind === 'host' && (typeof host !== 'string' || host === '')) {
    source.diagnostics.push(diagnosticIn(file, host === undefined ? [] : ['host'], 'a host spec needs a "host" key naming the host'));
    return source;
  }
  // The host file is checked as a fragment (its entries may be partial, it may use references);
  // the merged spec is checked against the host schema afterwards.
  const view = kind === 'host' ? new LoadedSpec(file.loaded.path, file.loaded.text, rest as unknown as HostSpec, { doc: file.loaded.doc, lineCounter: file.loaded.lineCounter }) : file.loaded;
  source.diagnostics.push(...fragmentSchemaDiagnostics(view));
  source.spec = withoutExtensionKeys(Object.fromEntries(Object.entries(rest).filter(([k]) => !MERGE_KEYS.has(k))));
  return source;
}

function includesOf(src: Source): { path: string; said: Said; base: string }[] {
  const list = src.file.value.include;
  if (!Array.isArray(list) || hasErrors(src.diagnostics)) return [];
  return list.map((p, i) => ({ path: String(p), said: { file: src.file, at: ['include', i] }, base: path.dirname(src.file.abs) }));
}

/** `./x` and `../x` are relative to the including file; anything else to the repository root. */
function resolveInclude(inc: { path: string; said: Said; base: string }, ctx: MergeContext, out: Diagnostic[]): string | undefined {
  const p = inc.path;
  // A path with control characters is quoted: a diagnostic stays one line.
  const shown = /[\u0000-\u001f\u007f]/.test(p) ? JSON.stringify(p) : p;
  const fail = (why: string) => void out.push(diagnosticIn(inc.said.file, inc.said.at, `include ${shown}: ${why}`));
  if (p.includes('\0')) return fail('no such file');
  if (/[*?[\]]/.test(p)) return fail('includes take no globs; name each fragment');
  if (path.isAbsolute(p)) return fail('an include is repository-relative, or relative to this file when it starts with ./ or ../');
  const resolved = path.resolve(p.startsWith('./') || p.startsWith('../') ? inc.base : ctx.root, p);
  if (!isInside(resolved, ctx.root)) return fail(`outside the repository (${ctx.root})`);
  if (!existsSync(resolved)) return fail('no such file');
  const real = realPath(resolved);
  // A symlink is followed, and judged by where it leads.
  if (!isInside(real, ctx.root)) return fail(`leads outside the repository (${ctx.root}) through a symlink`);
  return real;
}

function reachability(order: Source[], edges: Map<Source, Source[]>): Map<Source, Set<Source>> {
  const reach = new Map<Source, Set<Source>>();
  // `order` lists every file after the files it includes.
  for (const src of order) {
    const set = new Set<Source>();
    for (const child of edges.get(src) ?? []) {
      set.add(child);
      for (const r of reach.get(child) ?? []) set.add(r);
    }
    reach.set(src, set);
  }
  return reach;
}

/** One address as one file says it. */
interface Entry {
  address: string;
  container: string[];
  rule: MergeRule;
  id?: string;
  source: Source;
  /** The file's position in merge order and the entry's in the file: the order of the merged lists. */
  rank: [number, number];
  said: Said;
  replace: boolean;
  leaves: Leaf[];
}

/** A scalar, a list, an empty map or a typed reference: what "field by field" stops at. */
interface Leaf {
  field: PathSegment[];
  value: unknown;
  said: Said;
  source: Source;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRef = (v: unknown) => isMap(v) && typeof v.fleet === 'string';

function flatten(src: Source, rank: number, host: Source, out: Diagnostic[]): Entry[] {
  const entries: Entry[] = [];
  const seen = new Map<string, Said>();
  let n = 0;
  const add = (e: Omit<Entry, 'rank' | 'source'>) => {
    const first = seen.get(e.address);
    if (first) {
      out.push(diagnosticIn(src.file, e.said.at, `${e.address} is declared twice in this file (also at ${formatPosition(first)})`));
      return;
    }
    seen.set(e.address, e.said);
    entries.push({ ...e, source: src, rank: [rank, n++] });
  };
  const leaves = (v: unknown, field: PathSegment[], at: PathSegment[], skip?: Set<string>): Leaf[] =>
    isMap(v) && !isRef(v) && Object.keys(v).length > 0
      ? Object.entries(v)
          .filter(([k]) => !skip?.has(k))
          .flatMap(([k, x]) => leaves(x, [...field, k], [...at, k]))
      : [{ field, value: v, said: { file: src.file, at }, source: src }];
  const walk = (rule: MergeRule, container: string[], v: unknown, at: PathSegment[]) => {
    const name = container.join('.');
    const said = { file: src.file, at };
    switch (rule.kind) {
      case 'single':
        return add({ address: name, container, rule, said, replace: false, leaves: leaves(v, [], at) });
      case 'nested':
        if (!isMap(v)) return add({ address: name, container, rule: { kind: 'single' }, said, replace: false, leaves: leaves(v, [], at) });
        for (const [k, x] of Object.entries(v)) walk(rule.keys[k] ?? { kind: 'single' }, [...container, k], x, [...at, k]);
        return;
      case 'map':
        if (!isMap(v)) return;
        for (const [k, x] of Object.entries(v)) add({ address: `${name}[${k}]`, container, rule, id: k, said: { file: src.file, at: [...at, k] }, replace: false, leaves: leaves(x, [], [...at, k]) });
        return;
      case 'set':
        if (!Array.isArray(v)) return;
        v.forEach((x, i) => add({ address: `${name}[${String(x)}]`, container, rule, id: String(x), said: { file: src.file, at: [...at, i] }, replace: false, leaves: [{ field: [], value: x, said: { file: src.file, at: [...at, i] }, source: src }] }));
        return;
      case 'entries':
        if (!Array.isArray(v)) return;
        v.forEach((x, i) => {
          if (!isMap(x)) return;
          const id = rule.id(x);
          if (id === undefined) return;
          const entryAt = [...at, i];
          let ls = leaves(x, [], entryAt, ENTRY_MERGE_KEYS);
          ls = ls.concat(typeof x.order === 'number' ? [{ field: ['order'], value: x.order, said: { file: src.file, at: [...entryAt, 'order'] }, source: src }] : []);
          if (rule.relativePaths && src !== host) ls = ls.map((l) => (rule.relativePaths!.includes(String(l.field[0])) && l.field.length === 1 && typeof l.value === 'string' ? { ...l, value: rebase(l.value, src, host) } : l));
          add({ address: `${name}[${id}]`, container, rule, id, said: { file: src.file, at: entryAt }, replace: x.replace === true, leaves: ls });
        });
        return;
    }
  };
  for (const [k, v] of Object.entries(src.spec)) walk(MERGE_RULES[k] ?? { kind: 'single' }, [k], v, [k]);
  return entries;
}

/** A path relative to a fragment, made relative to the host file the merged spec is read beside. */
function rebase(p: string, from: Source, host: Source): string {
  if (path.isAbsolute(p)) return p;
  const rel = path.relative(path.dirname(host.file.abs), path.resolve(path.dirname(from.file.abs), p));
  return rel === '' ? '.' : rel;
}

/** DESIGN §8.2 rule 4: a file drops addresses its includes bring; one that matches nothing is an error. */
function applyExcludes(entries: Entry[], order: Source[], reach: Map<Source, Set<Source>>, out: Diagnostic[]): void {
  for (const src of order) {
    const list = src.file.value.exclude;
    if (!Array.isArray(list)) continue;
    list.forEach((x, i) => {
      const address = String(x);
      const below = reach.get(src)!;
      let matched = 0;
      for (let j = entries.length - 1; j >= 0; j--) {
        const e = entries[j]!;
        if (!below.has(e.source)) continue;
        if (e.address === address) {
          entries.splice(j, 1);
          matched++;
          continue;
        }
        // units[x].dropins[f]: a key of a map inside an entry.
        for (const sub of e.rule.kind === 'entries' ? (e.rule.sub ?? []) : []) {
          const m = address.startsWith(`${e.address}.${sub}[`) && address.endsWith(']') ? address.slice(`${e.address}.${sub}[`.length, -1) : undefined;
          if (m === undefined) continue;
          const before = e.leaves.length;
          e.leaves = e.leaves.filter((l) => !(l.field[0] === sub && l.field[1] === m));
          matched += before - e.leaves.length;
        }
      }
      if (!matched) out.push(diagnosticIn(src.file, ['exclude', i], `exclude: ${address} matches nothing this file's includes bring`));
    });
  }
}

const overlaps = (a: PathSegment[], b: PathSegment[]) => a.length <= b.length ? a.every((s, i) => s === b[i]) : b.every((s, i) => s === a[i]);

function fieldText(field: PathSegment[]): string {
  return field.map((f) => `.${String(f)}`).join('');
}

/** A short scalar is shown in a conflict; anything that could be a secret or is long is not. */
function shown(v: unknown, field: PathSegment[]): string {
  const s = JSON.stringify(v);
  if (field.some((f) => /pass|secret|token|key/i.test(String(f))) || s === undefined || s.length > 40) return '';
  return ` ${s}`;
}

function assemble(merged: MergedSpec, entries: Entry[], dominates: (a: Source, b: Source) => boolean, ctx: MergeContext): void {
  const byAddress = new Map<string, Entry[]>();
  for (const e of [...entries].sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1])) {
    const list = byAddress.get(e.address);
    if (list) list.push(e);
    else byAddress.set(e.address, [e]);
  }
  const out: Record<string, unknown> = {};
  const resolved: { entries: Entry[]; leaves: (Leaf & { overrides?: Leaf })[]; sort: [number, number, number] }[] = [];
  for (const [address, list] of byAddress) {
    // rule 3: replace: true drops what the files it includes say here.
    const live = list.filter((e) => !list.some((r) => r !== e && r.replace && dominates(r.source, e.source)));
    const all = live.flatMap((e) => e.leaves);
    // A value the nearer file repeats unchanged keeps its first origin (the entry's, usually).
    const kept = all.filter((l) => !all.some((o) => o.source !== l.source && overlaps(o.field, l.field) && dominates(o.source, l.source) && !(o.field.length === l.field.length && isDeepStrictEqual(o.value, l.value))));
    const final: (Leaf & { overrides?: Leaf })[] = [];
    for (const l of kept) {
      const clash = final.find((f) => overlaps(f.field, l.field));
      if (!clash) {
        const lost = all.filter((o) => o !== l && overlaps(o.field, l.field) && !isDeepStrictEqual(o.value, l.value)).at(-1);
        final.push(lost ? { ...l, overrides: lost } : l);
      } else if (clash.field.length === l.field.length && isDeepStrictEqual(clash.value, l.value)) {
        // rule 2: equal values at one address are one entry.
      } else if (clash.source !== l.source) {
        merged.diagnostics.push(
          diagnosticIn(
            l.said.file,
            l.said.at,
            `${address}${fieldText(l.field)}:${shown(l.value, l.field)} conflicts with${shown(clash.value, clash.field)} at ${formatPosition(clash.said)}; neither file includes the other (say it in a file that includes both, or mark one file defaults: true)`,
          ),
        );
      }
    }
    if (!final.length) continue;
    // Fields keep the order in which the merge first met them, whichever file won.
    const firstSeen = (l: Leaf) => all.findIndex((o) => overlaps(o.field, l.field));
    final.sort((a, b) => firstSeen(a) - firstSeen(b));
    const first = live.find((e) => e.leaves.some((l) => final.some((f) => f.said === l.said))) ?? live[0]!;
    // rule 5: hba rules: the host's first, then the fragments' in include order, each in file order; `order` first of all.
    const orderLeaf = final.find((f) => f.field.length === 1 && f.field[0] === 'order');
    const hostEntry = live.find((e) => e.source.kind === 'host');
    const rank = first.rule.kind === 'entries' && first.rule.hbaOrder ? (hostEntry ? [0, hostEntry.rank[1]] : [first.rank[0] + 1, first.rank[1]]) : first.rank;
    resolved.push({ entries: [first, ...live.filter((e) => e !== first)], leaves: final, sort: [typeof orderLeaf?.value === 'number' ? orderLeaf.value : 1000, rank[0]!, rank[1]!] });
  }
  if (hasErrors(merged.diagnostics)) return;
  // Lists keep the order of first appearance in merge order; hba rules sort by their rule-5 key.
  const hba = resolved.filter((r) => r.entries[0]!.rule.kind === 'entries' && (r.entries[0]!.rule as { hbaOrder?: boolean }).hbaOrder);
  hba.sort((a, b) => a.sort[0] - b.sort[0] || a.sort[1] - b.sort[1] || a.sort[2] - b.sort[2]);
  let h = 0;
  const isHba = new Set(hba);
  const ordered = resolved.map((r) => (isHba.has(r) ? hba[h++]! : r));

  const refs = new RefResolver(ctx, merged);
  for (const r of ordered) {
    const e = r.entries[0]!;
    const origin = (l: Leaf & { overrides?: Leaf }): Origin => ({ said: l.said, ...(l.overrides ? { overrides: l.overrides.said } : {}) });
    let value: unknown = r.leaves.length === 1 && r.leaves[0]!.field.length === 0 ? r.leaves[0]!.value : {};
    if (isMap(value) && !(r.leaves.length === 1 && r.leaves[0]!.field.length === 0)) for (const l of r.leaves) setIn(value as Record<string, unknown>, l.field, l.value);
    const fieldOrigins = r.leaves.filter((l) => l.field.length > 0).map((l) => ({ field: l.field, origin: origin(l) }));
    merged.addressOrigins.set(e.address, r.leaves.length === 1 && r.leaves[0]!.field.length === 0 ? { ...origin(r.leaves[0]!), entry: true } : { said: e.said, entry: true });
    for (const f of fieldOrigins) if (f.field[0] !== 'order') merged.addressOrigins.set(`${e.address}${fieldText(f.field)}`, f.origin);
    const values = refs.expand(e, value, r.leaves);
    for (const v of values) {
      const at = place(out, e, v);
      if (!at) continue;
      merged.origins.set(pathKey(at), { said: e.said, entry: true });
      if (r.leaves.length === 1 && r.leaves[0]!.field.length === 0) merged.origins.set(pathKey(at), { ...origin(r.leaves[0]!), entry: true });
      for (const f of fieldOrigins) merged.origins.set(pathKey([...at, ...f.field]), f.origin);
    }
  }
  const host = merged.hostFile.file.value.host as string;
  const value: Record<string, unknown> = {};
  for (const k of [...KEY_ORDER, ...Object.keys(out)]) {
    if (k === 'host') value.host = host;
    else if (out[k] !== undefined && !(k in value)) value[k] = out[k];
  }
  merged.origins.set(pathKey(['host']), { said: { file: merged.hostFile.file, at: ['host'] }, entry: true });
  merged.value = value as unknown as HostSpec;
}

function setIn(obj: Record<string, unknown>, field: PathSegment[], v: unknown): void {
  let o = obj;
  field.forEach((f, i) => {
    if (i === field.length - 1) o[f as string] = v;
    else o = (isMap(o[f as string]) ? o[f as string] : (o[f as string] = {})) as Record<string, unknown>;
  });
}

/** Puts one merged entry where its rule says; returns its path in the merged spec. */
function place(out: Record<string, unknown>, e: Entry, v: unknown): PathSegment[] | undefined {
  let o = out;
  for (const k of e.container.slice(0, -1)) o = (isMap(o[k]) ? o[k] : (o[k] = {})) as Record<string, unknown>;
  const last = e.container.at(-1)!;
  switch (e.rule.kind) {
    case 'single':
    case 'nested':
      o[last] = v;
      return e.container;
    case 'map': {
      const m = (isMap(o[last]) ? o[last] : (o[last] = {})) as Record<string, unknown>;
      m[e.id!] = v;
      return [...e.container, e.id!];
    }
    case 'set':
    case 'entries': {
      const list = (Array.isArray(o[last]) ? o[last] : (o[last] = [])) as unknown[];
      if (isMap(v)) delete v.order;
      list.push(v);
      return [...e.container, list.length - 1];
    }
  }
}

/**
 * DESIGN §8.2 rule 6: `{fleet: HOST, path: P}` as a mount source, `{fleet: group:G}` (or a host) as
 * export clients and hba addresses, `{fleet: HOST}` as a standby's primary host: expanded after the
 * merge to canonical addresses, sorted.
 */
class RefResolver {
  constructor(
    private ctx: MergeContext,
    private merged: MergedSpec,
  ) {}

  private fail(said: Said, message: string): undefined {
    this.merged.diagnostics.push(diagnosticIn(said.file, said.at, message));
    return undefined;
  }

  private addresses(ref: string, said: Said, allowGroup: boolean): string[] | undefined {
    const fleet = this.ctx.fleet;
    if (!fleet) return this.fail(said, `{fleet: ${ref}}: a typed reference needs a fleet (fleet.yaml at the repository root)`);
    if (ref.startsWith('group:')) {
      const g = ref.slice('group:'.length);
      if (!allowGroup) return this.fail(said, `{fleet: ${ref}}: a group stands only for export clients and hba addresses; name one host here`);
      if (!fleet.groups.has(g)) return this.fail(said, `{fleet: ${ref}}: no group ${g} in ${fleet.file.display}`);
      const found = [...fleet.hosts.values()].filter((h) => h.groups.includes(g) && h.canonical).map((h) => h.canonical!);
      if (!found.length) return this.fail(said, `{fleet: ${ref}}: group ${g} has no host with an address`);
      return found.sort(compareAddresses);
    }
    const host = fleet.hosts.get(ref);
    if (!host) return this.fail(said, `{fleet: ${ref}}: no host ${ref} in the fleet${this.nearest(ref)}`);
    if (!host.canonical) return this.fail(said, `{fleet: ${ref}}: host ${ref} has no address in the fleet (${formatPosition(host.said, { key: true })})`);
    return [host.canonical];
  }

  private nearest(name: string): string {
    const names = [...(this.ctx.fleet?.hosts.keys() ?? [])];
    const close = names.find((n) => n.startsWith(name.slice(0, Math.max(1, name.length - 2))));
    return close ? ` (did you mean ${close}?)` : '';
  }

  /** The entry's merged value with its references expanded: one value, or several hba rules. */
  expand(e: Entry, value: unknown, leaves: Leaf[]): unknown[] {
    const leafAt = (field: PathSegment[]) => leaves.find((l) => overlaps(l.field, field))?.said ?? e.said;
    const address = e.container.join('.');
    if (!isMap(value)) return [value];
    if (address === 'mounts' && isRef(value.source)) {
      const ref = value.source as { fleet: string; path: string };
      const found = this.addresses(ref.fleet, leafAt(['source']), false);
      return found ? [{ ...value, source: `${found[0]!.includes(':') ? `[${found[0]}]` : found[0]}:${ref.path}` }] : [];
    }
    if (address === 'exports' && Array.isArray(value.clients) && value.clients.some((c) => isMap(c) && isRef(c.host))) {
      const clientsLeaf = leafAt(['clients']);
      const clients = value.clients.flatMap((c, j) => {
        if (!isMap(c) || !isRef(c.host)) return [c];
        const found = this.addresses((c.host as { fleet: string }).fleet, { file: clientsLeaf.file, at: [...clientsLeaf.at, j, 'host'] }, true);
        return (found ?? []).map((a) => ({ ...c, host: a }));
      });
      return [{ ...value, clients }];
    }
    if (address === 'postgres.hba' && isRef(value.address)) {
      const found = this.addresses((value.address as { fleet: string }).fleet, leafAt(['address']), true);
      return (found ?? []).map((a) => ({ ...value, address: `${a}/${a.includes(':') ? 128 : 32}` }));
    }
    if (address === 'postgres.primary' && isRef(value.host)) {
      const found = this.addresses((value.host as { fleet: string }).fleet, leafAt(['host']), false);
      return found ? [{ ...value, host: found[0] }] : [];
    }
    return [value];
  }
}
