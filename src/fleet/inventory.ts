import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Diagnostic } from '../errors.js';
import type { PathSegment } from '../spec/load.js';
import { diagnosticIn, readYamlFile, type YamlFile } from './files.js';
import { fleetSchemaDiagnostics } from './schema.js';
import { formatPosition } from './origins.js';
import { bareAddress, parseIp } from './checks/net.js';

/** Where something was said: a file of the fleet and the YAML path in it. */
export interface Said {
  file: YamlFile;
  at: PathSegment[];
}

export interface FleetHost {
  name: string;
  /** As written, the first canonical; `/nn` gives the subnet. */
  addresses: string[];
  /** The first address without its prefix length: what typed references expand to. */
  canonical?: string;
  names: string[];
  seenAs: string[];
  groups: string[];
  /** Absolute path of its spec. */
  spec: string;
  after: string[];
  said: Said;
}

export interface FleetGroup {
  name: string;
  include: { path: string; said: Said }[];
  rollout?: Record<string, unknown>;
  said: Said;
}

export interface Fleet {
  root: string;
  file: YamlFile;
  name?: string;
  hosts: Map<string, FleetHost>;
  groups: Map<string, FleetGroup>;
  external: { addresses: string[]; names: string[]; what?: string; said: Said }[];
  defaults: Record<string, unknown>;
  redis?: unknown;
  /** The oldest reconcile hosts may run (fleet status flags older ones). */
  minVersion?: string;
  /** Every file of the inventory: fleet.yaml first, then the inventory files in sorted order. */
  files: YamlFile[];
}

/** The inventory of the fleet rooted at `root` (the directory holding fleet.yaml). */
export function loadFleet(root: string): { fleet: Fleet; diagnostics: Diagnostic[] } {
  const file = readYamlFile(path.join(root, 'fleet.yaml'), 'fleet.yaml');
  const diagnostics: Diagnostic[] = [...file.diagnostics];
  const fleet: Fleet = { root, file, hosts: new Map(), groups: new Map(), external: [], defaults: {}, files: [file] };
  if (diagnostics.some((d) => d.severity === 'error')) return { fleet, diagnostics };
  const schema = fleetSchemaDiagnostics(file.loaded);
  diagnostics.push(...schema);
  if (schema.some((d) => d.severity === 'error')) return { fleet, diagnostics };
  const v = file.value as FleetYaml;
  fleet.name = v.name;
  fleet.defaults = v.defaults ?? {};
  fleet.redis = v.redis;
  fleet.minVersion = v.minVersion;
  for (const [name, g] of Object.entries(v.groups ?? {})) {
    const said = { file, at: ['groups', name] };
    fleet.groups.set(name, { name, rollout: g.rollout, said, include: (g.include ?? []).map((p, i) => ({ path: p, said: { file, at: ['groups', name, 'include', i] } })) });
  }

  const sources: YamlFile[] = [file];
  (v.inventory ?? []).forEach((pattern, i) => {
    const found = expandInventory(root, pattern);
    if (typeof found === 'string') diagnostics.push(diagnosticIn(file, ['inventory', i], found));
    else
      for (const abs of found) {
        const inv = readYamlFile(abs, 'an inventory file');
        diagnostics.push(...inv.diagnostics);
        if (inv.diagnostics.some((d) => d.severity === 'error')) continue;
        const own = fleetSchemaDiagnostics(inv.loaded);
        diagnostics.push(...own);
        if (own.some((d) => d.severity === 'error')) continue;
        // An inventory file adds hosts and external servers; the rest is fleet.yaml's alone.
        for (const key of Object.keys(inv.value)) {
          if (!['hosts', 'external', 'apiVersion'].includes(key)) diagnostics.push(diagnosticIn(inv, [key], `"${key}" belongs in fleet.yaml; an inventory file holds hosts and external`, { key: true }));
        }
        sources.push(inv);
        fleet.files.push(inv);
      }
  });

  const identities = new Map<string, { what: string; said: Said }>();
  const claim = (id: string, what: string, said: Said) => {
    const first = identities.get(id);
    if (first) diagnostics.push(diagnosticIn(said.file, said.at, `${what} is also ${first.what} (${formatPosition(first.said)})`));
    else identities.set(id, { what, said });
  };
  for (const src of sources) {
    const sv = src.value as FleetYaml;
    for (const [name, h] of Object.entries(sv.hosts ?? {})) {
      const said = { file: src, at: ['hosts', name] };
      const prior = fleet.hosts.get(name);
      if (prior) {
        diagnostics.push(diagnosticIn(src, said.at, `host ${name} is declared twice (also at ${formatPosition(prior.said)})`, { key: true }));
        continue;
      }
      if (h.address !== undefined && h.addresses !== undefined) diagnostics.push(diagnosticIn(src, [...said.at, 'address'], `hosts.${name}: say address or addresses, not both`, { key: true }));
      const addresses = h.addresses ?? (h.address !== undefined ? [h.address] : []);
      const host: FleetHost = {
        name,
        addresses,
        canonical: addresses[0] ? bareAddress(addresses[0]) : undefined,
        names: h.names ?? [],
        seenAs: h.seenAs ?? [],
        groups: h.groups ?? [],
        spec: path.resolve(root, h.spec ?? path.join('hosts', `${name}.yaml`)),
        after: h.after ?? [],
        said,
      };
      fleet.hosts.set(name, host);
      claim(`name:${name}`, `host ${name}`, said);
      addresses.forEach((a, i) => checkAddress(diagnostics, src, [...said.at, h.addresses ? 'addresses' : 'address', ...(h.addresses ? [i] : [])], a));
      const addrAt = (i: number): Said => ({ file: src, at: h.addresses ? [...said.at, 'addresses', i] : [...said.at, 'address'] });
      addresses.forEach((a, i) => claim(`addr:${bareAddress(a)}`, `the address of host ${name}`, addrAt(i)));
      host.names.forEach((n, i) => claim(`name:${n}`, `a name of host ${name}`, { file: src, at: [...said.at, 'names', i] }));
      host.groups.forEach((g, i) => {
        if (!fleet.groups.has(g)) diagnostics.push(diagnosticIn(src, [...said.at, 'groups', i], `hosts.${name}: group "${g}" is not declared under groups: in fleet.yaml (an empty map is enough: ${g}: {})`));
      });
    }
    (sv.external ?? []).forEach((e, i) => {
      const said = { file: src, at: ['external', i] };
      const addresses = e.addresses ?? (e.address !== undefined ? [e.address] : []);
      addresses.forEach((a, j) => checkAddress(diagnostics, src, e.addresses ? ['external', i, 'addresses', j] : ['external', i, 'address'], a));
      addresses.forEach((a, j) => claim(`addr:${bareAddress(a)}`, `the address of external server ${e.what ?? i}`, { file: src, at: e.addresses ? ['external', i, 'addresses', j] : ['external', i, 'address'] }));
      fleet.external.push({ addresses, names: e.names ?? [], what: e.what, said });
    });
  }
  for (const host of fleet.hosts.values()) {
    host.after.forEach((a, i) => {
      if (!fleet.hosts.has(a)) diagnostics.push(diagnosticIn(host.said.file, [...host.said.at, 'after', i], `hosts.${host.name}: after: "${a}" is not a host of this fleet`));
    });
  }
  diagnostics.push(...afterCycles(fleet));
  return { fleet, diagnostics };
}

interface FleetYaml {
  name?: string;
  inventory?: string[];
  hosts?: Record<string, { address?: string; addresses?: string[]; names?: string[]; seenAs?: string[]; groups?: string[]; spec?: string; after?: string[] }>;
  external?: { address?: string; addresses?: string[]; names?: string[]; what?: string }[];
  groups?: Record<string, { include?: string[]; rollout?: Record<string, unknown> }>;
  defaults?: Record<string, unknown>;
  redis?: unknown;
  minVersion?: string;
}

/** `inventory/*.yaml`: one directory level, `*` within a name; a plain path names one file. Sorted. */
function expandInventory(root: string, pattern: string): string[] | string {
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  if (dir.includes('*') || /[?[\]]/.test(pattern)) return `inventory: "${pattern}": only a * in the file name is supported (such as inventory/*.yaml)`;
  if (pattern.split('/').includes('..')) return `inventory: "${pattern}" leaves the repository`;
  const absDir = path.resolve(root, dir);
  if (!base.includes('*')) return existsSync(path.join(absDir, base)) ? [path.join(absDir, base)] : `inventory: ${pattern}: no such file`;
  const re = new RegExp(`^${base.split('*').map((s) => s.replace(/[.+^${}()|\\]/g, '\\$&')).join('[^/]*')}$`);
  let names: string[];
  try {
    names = readdirSync(absDir);
  } catch {
    return `inventory: ${dir}: no such directory`;
  }
  return names.filter((n) => re.test(n) && !n.startsWith('.')).sort().map((n) => path.join(absDir, n));
}

/** The schema checks the shape; the numbers are checked here. */
function checkAddress(out: Diagnostic[], file: YamlFile, at: PathSegment[], address: string): void {
  const [ip, bits] = address.split('/');
  const parsed = parseIp(ip!);
  if (!parsed) out.push(diagnosticIn(file, at, `"${address}" is not an IP address`));
  else if (bits !== undefined && Number(bits) > (parsed.v === 4 ? 32 : 128)) out.push(diagnosticIn(file, at, `"${address}": /${bits} is longer than ${parsed.v === 4 ? 32 : 128} bits`));
}

/** `after:` is a DAG (DESIGN §8.4 rule 7): a cycle is reported once, at its first host. */
function afterCycles(fleet: Fleet): Diagnostic[] {
  const out: Diagnostic[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (name: string, trail: string[]) => {
    const host = fleet.hosts.get(name);
    if (!host || state.get(name) === 'done') return;
    if (state.get(name) === 'open') {
      const cycle = [...trail.slice(trail.indexOf(name)), name];
      const first = fleet.hosts.get(cycle[0]!)!;
      out.push(diagnosticIn(first.said.file, [...first.said.at, 'after'], `after: cycle ${cycle.join(' → ')}`));
      return;
    }
    state.set(name, 'open');
    for (const next of host.after) visit(next, [...trail, name]);
    state.set(name, 'done');
  };
  for (const name of fleet.hosts.keys()) visit(name, []);
  return out;
}

/** Sorts IPv4 numerically, then IPv6 and anything else as text. */
export function compareAddresses(a: string, b: string): number {
  const key = (s: string) => (/^\d+\.\d+\.\d+\.\d+$/.test(s) ? s.split('.').map((o) => o.padStart(3, '0')).join('.') : `~${s}`);
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}
