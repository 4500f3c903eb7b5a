import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where reconcile's own files are (package.json, schemas/, dist/), found from this module's place.
 * The same code runs from src/ (tests), from dist/ (compiled module by module) and bundled into
 * dist/bin/ (the command, scripts/bundle.mjs): a path written relative to one module's own file
 * would be right in one of them only.
 */
export const PACKAGE_ROOT = packageRoot(path.dirname(fileURLToPath(import.meta.url)));

/** Running from source (tests), where the build's compiled validators are not. */
export const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** A file the build writes beside the compiled module of `dir` (src/spec -> dist/spec), or its source. */
export function besideModule(dir: string, file: string): string {
  return path.join(PACKAGE_ROOT, FROM_SOURCE ? 'src' : 'dist', dir, file);
}

function packageRoot(from: string): string {
  for (let at = from; ; at = path.dirname(at)) {
    if (existsSync(path.join(at, 'package.json'))) return at;
    if (path.dirname(at) === at) return path.dirname(from);
  }
}
