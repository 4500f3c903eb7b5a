import type { KindRisk, KindValidate, ResourceKind } from './types.js';
import type { HostSpec } from '../spec/types.js';

/**
 * Every kind, in the order their changes are listed and their steps run, with the spec keys it
 * reads. Each part of a kind is loaded only when needed: `load` (observe, diff, steps) when the
 * spec names one of its keys or reconcile owns addresses of it, `validate` by the spec checker
 * on a spec-cache miss, `risk` by review (the kind's diff imports its own). A plan does not pay
 * for code it does not use. Adding a kind adds one line here.
 */
export interface KindEntry {
  name: string;
  keys: (keyof HostSpec)[];
  load(): Promise<ResourceKind<any>>;
  validate(): Promise<KindValidate>;
  risk(): Promise<KindRisk>;
  /**
   * Whether the kind reads the machine only through the Host, so the Host's trace is all its plan
   * depends on and a converged plan may be taken from the memo (src/apply/memo.ts). False for a
   * kind that asks a database: its answers are not in the trace.
   */
  observesThroughHost: boolean;
}

export const KIND_ENTRIES: KindEntry[] = [
  { name: 'timezone', keys: ['timezone'], load: async () => (await import('./timezone/index.js')).timezoneKind, validate: () => import('./timezone/validate.js'), risk: () => import('./timezone/risk.js'), observesThroughHost: true },
  { name: 'exports', keys: ['exports'], load: async () => (await import('./exports/index.js')).exportsKind, validate: () => import('./exports/validate.js'), risk: () => import('./exports/risk.js'), observesThroughHost: true },
  { name: 'nfsServer', keys: ['nfsServer'], load: async () => (await import('./nfsServer/index.js')).nfsServerKind, validate: () => import('./nfsServer/validate.js'), risk: () => import('./nfsServer/risk.js'), observesThroughHost: true },
  { name: 'mounts', keys: ['mounts'], load: async () => (await import('./mounts/index.js')).mountsKind, validate: () => import('./mounts/validate.js'), risk: () => import('./mounts/risk.js'), observesThroughHost: true },
  { name: 'units', keys: ['units'], load: async () => (await import('./units/index.js')).unitsKind, validate: () => import('./units/validate.js'), risk: () => import('./units/risk.js'), observesThroughHost: true },
  { name: 'postgres', keys: ['postgres'], load: async () => (await import('./postgres/index.js')).postgresKind, validate: () => import('./postgres/validate.js'), risk: () => import('./postgres/risk.js'), observesThroughHost: false },
  { name: 'migrations', keys: ['migrations'], load: async () => (await import('./migrations/index.js')).migrationsKind, validate: () => import('./migrations/validate.js'), risk: () => import('./migrations/risk.js'), observesThroughHost: false },
];

export const KIND_NAMES = KIND_ENTRIES.map((k) => k.name);

/** Whether every kind named reads the machine only through the Host. */
export function observedThroughHost(names: Iterable<string>): boolean {
  const wanted = new Set(names);
  return KIND_ENTRIES.every((k) => !wanted.has(k.name) || k.observesThroughHost);
}

/** The kinds, loaded, in registry order: all of them, or those named. */
export async function loadKinds(names: Iterable<string> = KIND_NAMES): Promise<ResourceKind<any>[]> {
  const wanted = new Set(names);
  return Promise.all(KIND_ENTRIES.filter((k) => wanted.has(k.name)).map((k) => k.load()));
}

/** The registry entries of the kinds whose keys the spec names. */
export function kindsInSpec(spec: HostSpec): KindEntry[] {
  return KIND_ENTRIES.filter((k) => k.keys.some((key) => spec[key] !== undefined));
}

/** The kinds a plan must run: the spec names them, or reconcile owns something of theirs. */
export function kindsInUse(spec: HostSpec, ownedKinds: Iterable<string>): string[] {
  const owned = new Set(ownedKinds);
  return KIND_ENTRIES.filter((k) => owned.has(k.name) || k.keys.some((key) => spec[key] !== undefined)).map((k) => k.name);
}
