import { SpecError, UserError } from '../errors.js';
import { loadHostSpec } from '../fleet/load.js';
import { readSecretRef, redact } from '../spec/secrets.js';
import type { MigrationsSpec, SecretRef } from '../spec/types.js';
import { describeDbError, describeUrl } from '../resources/migrations/db.js';
import { dialectFor } from '../resources/migrations/dialect.js';
import type { TableInfo } from '../resources/migrations/inspect.js';
import { oneOf, parse } from './args.js';
import { commandHelp } from './docs.js';

export const INSPECT_FORMAT_VERSION = 1;

export async function dbCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('db', argv);
  if (values.help) {
    process.stdout.write(commandHelp('db'));
    return 0;
  }
  const [sub, specFile, name, ...extra] = positionals;
  if (sub !== 'inspect') throw new UserError(`reconcile db: ${sub === undefined ? 'expected a subcommand' : `unknown subcommand "${sub}"`}; the one there is: inspect (see reconcile db --help)`);
  if (specFile === undefined || extra.length) throw new UserError('reconcile db inspect: expected SPEC and an optional NAME (see reconcile db --help)');
  const format = oneOf('db', 'format', values.format, ['text', 'json'] as const, 'text');

  const { spec, diagnostics } = await loadHostSpec(specFile);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new SpecError(errors);
  const entry = pickEntry(spec.value.migrations ?? [], name, specFile);
  const url = resolveRef(entry.database, `migrations[${entry.name}].database`);

  const dialect = dialectFor(url, `migrations[${entry.name}].database`);
  let session;
  try {
    session = await dialect.connect(url);
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`reconcile db inspect: migrations[${entry.name}]: ${e.message}`);
    throw new UserError(redact(`reconcile db inspect: cannot connect to ${describeUrl(url)}: ${describeDbError(e)}`));
  }
  let tables: TableInfo[];
  let database: string;
  try {
    ({ database, tables } = await session.inspect());
  } catch (e) {
    throw new UserError(redact(`reconcile db inspect: ${describeUrl(url)}: ${describeDbError(e)}`));
  } finally {
    await session.close().catch(() => {});
  }
  const out = format === 'json' ? `${JSON.stringify({ formatVersion: INSPECT_FORMAT_VERSION, migrations: entry.name, database, tables }, null, 2)}\n` : renderText(tables);
  process.stdout.write(redact(out));
  return 0;
}

function pickEntry(entries: MigrationsSpec[], name: string | undefined, specFile: string): MigrationsSpec {
  if (entries.length === 0) throw new UserError(`${specFile}: the spec has no migrations entry`);
  if (name === undefined) {
    if (entries.length === 1) return entries[0]!;
    throw new UserError(`${specFile}: name the migrations entry to inspect: ${entries.map((e) => e.name).join(', ')}`);
  }
  const entry = entries.find((e) => e.name === name);
  if (!entry) throw new UserError(`${specFile}: no migrations entry named "${name}" (there is ${entries.map((e) => e.name).join(', ')})`);
  return entry;
}

/** Only this entry's reference: inspect must not need every secret of the host's spec. */
function resolveRef(ref: SecretRef, where: string): string {
  const read = readSecretRef(ref);
  if ('error' in read) throw new UserError(`${where}: ${'file' in ref ? `${ref.file}: ` : ''}${read.error}`);
  return read.value;
}

function renderText(tables: TableInfo[]): string {
  if (tables.length === 0) return 'no tables\n';
  const header = ['TABLE', 'COLUMN', 'TYPE', 'LENGTH', 'PRECISION', 'SCALE', 'KEY', 'NULLABLE', 'DEFAULT', 'AUTO_INCREMENT', 'COMMENT'];
  const rows = tables.flatMap((t) =>
    t.columns.map((c) => [
      `${t.schema}.${t.name}`,
      c.name,
      c.type,
      c.length === null ? '' : String(c.length),
      c.precision === null ? '' : String(c.precision),
      c.scale === null ? '' : String(c.scale),
      c.key ?? '',
      c.nullable ? 'yes' : 'no',
      c.default ?? '',
      c.autoIncrement ? 'yes' : '',
      oneLine(c.comment ?? ''),
    ]),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(header), ...rows.map(line)];
  const commented = tables.filter((t) => t.comment);
  if (commented.length) out.push('', 'table comments:', ...commented.map((t) => `  ${t.schema}.${t.name}: ${oneLine(t.comment!)}`));
  return `${out.join('\n')}\n`;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}
