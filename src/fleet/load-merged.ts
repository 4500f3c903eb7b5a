/** A spec inside a fleet, merged and checked: src/fleet/load.ts imports this only for such a spec. */
import * as path from 'node:path';
import type { Diagnostic } from '../errors.js';
import { sha256 } from '../hash.js';
import { LoadedSpec } from '../spec/load.js';
import { readCachedSpec, specCacheKey, writeCachedSpec } from '../spec/cache.js';
import type { ValidateOptions } from '../resources/validate.js';
import { checkMerged, originOf } from './check.js';
import { canonicalJson } from './context.js';
import { realPath } from './files.js';
import type { Fleet } from './inventory.js';
import type { MergedSpec } from './merge.js';
import type { FleetSources, LoadedHostSpec } from './load.js';

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
