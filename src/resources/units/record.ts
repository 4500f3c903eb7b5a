import type { Host } from '../../host/host.js';
import { UNITS_RECORD } from './paths.js';

/**
 * What reconcile keeps about units between applies (root-relative /var/lib/reconcile/units.json):
 * the files it wrote for each unit, so a unit that leaves the spec loses exactly those, and the
 * restart or reload a unit is owed after its files changed. The debt is written before the files
 * and cleared by the restart, so an apply that fails in between leaves it for the next one.
 */
export interface UnitsRecord {
  formatVersion: 1;
  units: Record<string, UnitRecord>;
}

export interface UnitRecord {
  files: string[];
  owe?: 'restart' | 'reload';
}

export function emptyRecord(): UnitsRecord {
  return { formatVersion: 1, units: {} };
}

export async function readRecord(host: Host): Promise<UnitsRecord> {
  const text = await host.readText(UNITS_RECORD);
  if (text === null) return emptyRecord();
  try {
    const r = JSON.parse(text) as UnitsRecord;
    return { formatVersion: 1, units: r.units ?? {} };
  } catch {
    throw new Error(`${host.resolve(UNITS_RECORD)} is not valid JSON; move it aside to start over`);
  }
}

/** Read-modify-write of one unit's entry; `null` forgets the unit. */
export async function updateRecord(host: Host, name: string, entry: UnitRecord | null): Promise<boolean> {
  return updateRecords(host, { [name]: entry });
}

/** One read-modify-write for many units (an apply of hundreds of units writes the file once). */
export async function updateRecords(host: Host, entries: Record<string, UnitRecord | null>): Promise<boolean> {
  const record = await readRecord(host);
  const before = JSON.stringify(record.units);
  for (const [name, entry] of Object.entries(entries)) {
    if (entry === null || (entry.files.length === 0 && !entry.owe)) delete record.units[name];
    else record.units[name] = entry.owe ? { files: [...entry.files].sort(), owe: entry.owe } : { files: [...entry.files].sort() };
  }
  if (JSON.stringify(record.units) === before) return false;
  await host.writeFile(UNITS_RECORD, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  return true;
}
