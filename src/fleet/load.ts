/**
 * The one place that decides how a command reads a spec file (DESIGN §8.2, last bullet): a spec
 * inside a fleet (fleet.yaml between it and the repository root) is its merged spec; any other
 * spec is loaded exactly as before. plan, apply, drift, facts and db inspect all come through here.
 */
import * as path from 'node:path';
import type { Diagnostic } from '../errors.js';
import { sha256 } from '../hash.js';
import { LoadedSpec } from '../spec/load.js';
import { readCachedSpec, specCacheKey, writeCachedSpec } from '../spec/cache.js';
import { loadAndValidate, type ValidateOptions } from '../resources/validate.js';
import { checkMerged, originOf } from './check.js';
import { canonicalJson } from './context.js';
import { findFleetRoot, realPath } from './files.js';
import { mergeSpecArgument, type OpenFleet } from './index.js';
import type { Fleet } from './inventory.js';
import type { MergedSpec } from './merge.js';
import type { SpecSource } from '../plan/types.js';


export interface LoadedHostSpec {
  /** For a merged spec: its value, with canonical JSON as its text (so `sha256` is `mergedSpecDigest`). */
  spec: LoadedSpec;
  diagnostics: Diagnostic[];
  /** Only inside a fleet: what the merged spec was made from, and the files git "dirty" looks at. */
  fleet?: FleetSources;
}

export interface FleetSources {
  /** Every file the merged spec was made from, in merge order (the host file last). */
  sources: SpecSource[];
  /** sha256 over fleet.yaml and the inventory files (they decide groups and typed references). */
  fleet: string;
  /** Absolute paths of the sources and the inventory files. */
  files: string[];
}

/** Is `file` inside a fleet? Cheap: it stats upwards to the repository root, reading nothing. */
export function inFleet(file: string): boolean {
  return !!findFleetRoot(path.dirname(path.resolve(file))).fleetRoot;
}

/** The spec a command works on: merged when inside a fleet, else exactly `loadAndValidate`. */
export async function loadHostSpec(file: string, options: ValidateOptions & { migrationFiles?: boolean; fleet?: OpenFleet } = {}): Promise<LoadedHostSpec> {
  if (!inFleet(file)) return loadAndValidate(file, options);
  const { merged, diagnostics, fleet } = mergeSpecArgument(file, options.fleet);
  if (!merged || !fleet || diagnostics.some((d) => d.severity === 'error')) return { spec: new LoadedSpec(file, '', {} as never), diagnostics };
  return loadMerged(file, merged, fleet, diagnostics, options);
}

/** A merged spec checked (or its earlier answer taken from the cache) and wrapped as a LoadedSpec. */
export function loadMerged(file: string, merged: MergedSpec, fleet: Fleet, before: Diagnostic[], options: ValidateOptions & { migrationFiles?: boolean } = {}): LoadedHostSpec {
  const text = canonicalJson(merged.value);
  // The cache key covers every source's text (warnings carry their lines) and the merged value
  // (which the inventory shapes through typed references): a hit is the same answer.
  const key = specCacheKey(JSON.stringify([text, merged.sources.map((s) => [s.file.display, s.file.loaded.text])]), { root: path.resolve(options.root ?? '/'), strict: !!options.strict });
  const cached = readCachedSpec(key);
  let found: Diagnostic[];
  if (cached) found = cached.warnings;
  else {
    found = checkMerged(merged, options, { migrationFiles: options.migrationFiles !== false });
    if (!found.some((d) => d.severity === 'error')) writeCachedSpec(key, { value: merged.value, warnings: found });
  }
  const spec = new LoadedSpec(file, text, merged.value);
  // Diagnostics raised later (a secret that cannot be read, a host fault at a value) point at the file holding the value.
  spec.locate = (at, o) => originOf(merged, at, o);
  return { spec, diagnostics: [...before, ...found], fleet: fleetSources(merged, fleet) };
}

export function fleetSources(merged: MergedSpec, fleet: Fleet): FleetSources {
  const root = realPath(fleet.root);
  const rel = (abs: string) => path.relative(root, realPath(abs)) || abs;
  return {
    sources: merged.sources.map((s) => ({ path: rel(s.file.abs), sha256: sha256(s.file.loaded.text) })),
    fleet: sha256(fleet.files.map((f) => `${rel(f.abs)}\0${sha256(f.loaded.text)}\n`).join('')),
    files: [...merged.sources.map((s) => s.file.abs), ...fleet.files.map((f) => f.abs)],
  };
}
