import type { ResourceKind } from './types.js';
import type { HostSpec } from '../spec/types.js';

/**
 * Every kind, in the order their changes are listed and their steps run, with the spec keys it
 * reads. A kind is loaded only when the spec names one of its keys or reconcile owns addresses of
 * it: a plan does not pay for the code of kinds it does not use. Adding a kind adds one line here.
 */
export interface KindEntry {
  name: string;
  keys: (keyof HostSpec)[];
  load(): Promise<ResourceKind<any>>;
}

export const KIND_ENTRIES: KindEntry[] = [
  { name: 'timezone', keys: ['timezone'], load: async () => (await import('./timezone/index.js')).timezoneKind },
  { name: 'exports', keys: ['exports'], load: async () => (await import('./exports/index.js')).exportsKind },
  { name: 'nfsServer', keys: ['nfsServer'], load: async () => (await import('./nfsServer/index.js')).nfsServerKind },
  { name: 'mounts', keys: ['mounts'], load: async () => (await import('./mounts/index.js')).mountsKind },
  { name: 'units', keys: ['units'], load: async () => (await import('./units/index.js')).unitsKind },
  { name: 'postgres', keys: ['postgres'], load: async () => (await import('./postgres/index.js')).postgresKind },
  { name: 'migrations', keys: ['migrations'], load: async () => (await import('./migrations/index.js')).migrationsKind },
];

export const KIND_NAMES = KIND_ENTRIES.map((k) => k.name);

/** The kinds, loaded, in registry order: all of them, or those named. */
export async function loadKinds(names: Iterable<string> = KIND_NAMES): Promise<ResourceKind<any>[]> {
  const wanted = new Set(names);
  return Promise.all(KIND_ENTRIES.filter((k) => wanted.has(k.name)).map((k) => k.load()));
}

/** The kinds a plan must run: the spec names them, or reconcile owns something of theirs. */
export function kindsInUse(spec: HostSpec, ownedKinds: Iterable<string>): string[] {
  const owned = new Set(ownedKinds);
  return KIND_ENTRIES.filter((k) => owned.has(k.name) || k.keys.some((key) => spec[key] !== undefined)).map((k) => k.name);
}
