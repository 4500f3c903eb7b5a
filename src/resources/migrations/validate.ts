import type { Diagnostic } from '../../errors.js';
import { diagnosticAt, type LoadedSpec } from '../../spec/load.js';
import { readMigrationDir } from './files.js';
import { compareVersions } from './parse.js';

/** `migrations:` from the spec alone: each name once (the files are checked on every load, below). */
export function validate(spec: LoadedSpec): Diagnostic[] {
  const out: Diagnostic[] = [];
  const names = new Map<string, number>();
  (spec.value.migrations ?? []).forEach((entry, i) => {
    const first = names.get(entry.name);
    if (first !== undefined) {
      out.push(diagnosticAt(spec, ['migrations', i, 'name'], `migrations: the name ${entry.name} is used twice (here and at line ${diagnosticAt(spec, ['migrations', first, 'name'], '').line})`));
    } else names.set(entry.name, i);
  });
  return out;
}

/**
 * The migration files of each entry: every file parses (a problem is FILE:LINE:COL of the
 * migration file), the directory exists, and `target` and `stamp` name migrations that exist.
 * Not cached with the spec: the files change on their own.
 */
export function migrationFileDiagnostics(spec: LoadedSpec): Diagnostic[] {
  const entries = spec.value.migrations ?? [];
  const out: Diagnostic[] = [];
  entries.forEach((entry, i) => {
    const read = readMigrationDir(spec.path, entry);
    if (read.unreadable) {
      out.push(diagnosticAt(spec, ['migrations', i, 'dir'], `migrations[${entry.name}]: ${read.unreadable}`));
      return;
    }
    out.push(...read.diagnostics);
    if (read.diagnostics.length) return;
    const known = (v: string) => read.files.some((f) => compareVersions(f.version, v) === 0);
    if (entry.target !== undefined && entry.target !== 'head' && !/^0+$/.test(entry.target) && !known(entry.target)) {
      out.push(diagnosticAt(spec, ['migrations', i, 'target'], `migrations[${entry.name}]: target ${entry.target} is not the version of a file in ${entry.dir} (use head, 0 for none, or a version)`));
    }
    if (entry.retry !== undefined && !known(entry.retry)) {
      out.push(diagnosticAt(spec, ['migrations', i, 'retry'], `migrations[${entry.name}]: retry ${entry.retry} is not the version of a file in ${entry.dir}`));
    }
    if (entry.stamp !== undefined) {
      if (!known(entry.stamp)) {
        out.push(diagnosticAt(spec, ['migrations', i, 'stamp'], `migrations[${entry.name}]: stamp ${entry.stamp} is not the version of a file in ${entry.dir}`));
      } else if (entry.target !== undefined && entry.target !== 'head' && compareVersions(entry.stamp, entry.target) > 0) {
        out.push(diagnosticAt(spec, ['migrations', i, 'stamp'], `migrations[${entry.name}]: stamp ${entry.stamp} is above target ${entry.target}`));
      }
    }
  });
  return out;
}
