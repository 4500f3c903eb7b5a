/**
 * The one place that decides how a command reads a spec file (DESIGN §8.2, last bullet): a spec
 * inside a fleet (fleet.yaml between it and the repository root) is its merged spec; any other
 * spec is loaded exactly as before. plan, apply, drift, facts and db inspect all come through here.
 * The fleet's modules (and its two compiled schema validators, some 200 KB of code) load only for
 * a spec inside a fleet: a converged plan of a plain spec spends no start-up time on them.
 */
import * as path from 'node:path';
import type { Diagnostic } from '../errors.js';
import { LoadedSpec } from '../spec/load.js';
import { loadAndValidate, type ValidateOptions } from '../resources/validate.js';
import { findFleetRoot } from './files.js';
import type { OpenFleet } from './index.js';
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
  const [{ mergeSpecArgument }, { loadMerged }] = await Promise.all([import('./index.js'), import('./load-merged.js')]);
  const { merged, diagnostics, fleet } = mergeSpecArgument(file, options.fleet);
  if (!merged || !fleet || diagnostics.some((d) => d.severity === 'error')) return { spec: new LoadedSpec(file, '', {} as never), diagnostics };
  return loadMerged(file, merged, fleet, diagnostics, options);
}

