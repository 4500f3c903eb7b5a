import * as path from 'node:path';
import type { Diagnostic } from '../errors.js';
import { readSpecFile, LoadedSpec } from '../spec/load.js';
import { readCachedSpec, specCacheKey, writeCachedSpec } from '../spec/cache.js';
import { findSecretRefs } from '../spec/secrets.js';
import type { ValidateOptions } from '../spec/types.js';

export type { ValidateOptions } from '../spec/types.js';

/**
 * Parse, schema, semantic rules and the security lint: every finding is FILE:LINE:COL. A spec
 * whose text passed before (the cache) is not checked again; the checker is loaded only when it is.
 */
export async function loadAndValidate(file: string, options: ValidateOptions & { migrationFiles?: boolean } = {}): Promise<{ spec: LoadedSpec; diagnostics: Diagnostic[] }> {
  const text = readSpecFile(file);
  const key = specCacheKey(text, { root: path.resolve(options.root ?? '/'), strict: !!options.strict, ownUnits: !!options.ownUnits });
  const cached = readCachedSpec(key);
  // A plan does not need them here: the migrations kind reads and checks its files when it observes.
  const files = options.migrationFiles === false ? async (r: { spec: LoadedSpec; diagnostics: Diagnostic[] }) => r : withMigrationFiles;
  if (cached) {
    const spec = new LoadedSpec(file, text, cached.value);
    if (cached.secretRefs) spec.secretRefs = cached.secretRefs;
    return files({ spec, diagnostics: cached.warnings.map((d) => ({ ...d, file })) });
  }
  const { check } = await import('./check.js');
  const result = await check(text, file, options);
  if (!result.diagnostics.some((d) => d.severity === 'error')) writeCachedSpec(key, { value: result.spec.value, warnings: result.diagnostics, secretRefs: findSecretRefs(result.spec.value) });
  return files(result);
}

/** Migration files change without the spec's text changing: checked on every load, never cached. */
async function withMigrationFiles(r: { spec: LoadedSpec; diagnostics: Diagnostic[] }): Promise<{ spec: LoadedSpec; diagnostics: Diagnostic[] }> {
  if (r.diagnostics.some((d) => d.severity === 'error') || !r.spec.value.migrations?.length) return r;
  const { migrationFileDiagnostics } = await import('./migrations/validate.js');
  return { spec: r.spec, diagnostics: [...r.diagnostics, ...migrationFileDiagnostics(r.spec)] };
}
