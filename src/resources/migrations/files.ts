import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Diagnostic } from '../../errors.js';
import type { MigrationsSpec } from '../../spec/types.js';
import { splitMysqlStatements } from './mysql-split.js';
import { checksum, compareVersions, parseFileName, parseMigration, splitStatements } from './parse.js';
import type { MigrationFile } from './types.js';

/** The entry's directory: `dir` is relative to the spec file, wherever reconcile runs. */
export function migrationsDir(specPath: string, entry: Pick<MigrationsSpec, 'dir'>): string {
  return path.resolve(path.dirname(specPath), entry.dir);
}

export interface DirRead {
  /** Sorted by version. */
  files: MigrationFile[];
  /** Parse problems, each at FILE:LINE:COL of the migration file (FILE as it was found from the spec's path). */
  diagnostics: Diagnostic[];
  /** The directory could not be read (the message says why). */
  unreadable?: string;
}

/**
 * Reads and parses every `*.sql` file of an entry's directory. Other files (a README) are
 * ignored; a `.sql` file not named `<version>_<slug>.sql`, or a version used twice, is a problem.
 * `split` is the database's statement splitter when the database is known (plan, apply); without
 * it (validate: the URL is a secret) a file is valid when PostgreSQL's or MySQL's rules split it,
 * and the plan checks it again with the database's own.
 */
export function readMigrationDir(specPath: string, entry: Pick<MigrationsSpec, 'dir'>, split?: typeof splitStatements): DirRead {
  const dir = migrationsDir(specPath, entry);
  const shown = path.join(path.dirname(specPath), entry.dir); // what the reader of the spec opens
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.sql')).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { files: [], diagnostics: [], unreadable: `cannot read the migrations directory ${shown} (${code === 'ENOENT' ? 'no such directory' : code ?? String(e)})` };
  }
  const files: MigrationFile[] = [];
  const diagnostics: Diagnostic[] = [];
  const byVersion = new Map<string, string>();
  for (const fileName of names) {
    const at = path.join(shown, fileName);
    const id = parseFileName(fileName);
    if (!id) {
      diagnostics.push({ file: at, line: 1, col: 1, severity: 'error', message: `a migration file is named <version>_<slug>.sql (digits, underscore, name), not "${fileName}"` });
      continue;
    }
    const same = [...byVersion].find(([v]) => compareVersions(v, id.version) === 0);
    if (same) {
      diagnostics.push({ file: at, line: 1, col: 1, severity: 'error', message: `version ${id.version} is also used by ${same[1]}` });
      continue;
    }
    byVersion.set(id.version, fileName);
    const text = readFileSync(path.join(dir, fileName), 'utf8');
    let { migration, problems } = parseMigration(text, split);
    if (!split && problems.length) {
      const asMysql = parseMigration(text, splitMysqlStatements);
      if (!asMysql.problems.length) ({ migration, problems } = asMysql);
    }
    for (const p of problems) diagnostics.push({ file: at, line: p.line, col: p.col, severity: 'error', message: p.message });
    if (migration) {
      files.push({ ...id, file: path.posix.join(entry.dir, fileName), checksum: checksum(migration.up.sql), up: migration.up, down: migration.down });
    }
  }
  files.sort((a, b) => compareVersions(a.version, b.version));
  return { files, diagnostics };
}
