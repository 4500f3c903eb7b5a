import type { Host } from '../../host/host.js';
import { readOwed, type OwedVerb } from '../../host/owed.js';
import { UNITS_RECORD } from './paths.js';

/**
 * What reconcile keeps about units between applies (root-relative /var/lib/reconcile/units.json):
 * the files it wrote for each unit, so a unit that leaves the spec loses exactly those. The
 * restart or reload a unit is owed after its files changed is in the shared ledger
 * (src/host/owed.ts); `readRecord` shows it here as `owe`, next to the files.
 */
export interface UnitsRecord {
  formatVersion: 1;
  units: Record<string, UnitRecord>;
}

export interface UnitRecord {
  files: string[];
  /** Read from the ledger; in units.json only as written by versions before it (honoured, never written). */
  owe?: OwedVerb;
}

export function emptyRecord(): UnitsRecord {
  return { formatVersion: 1, units: {} };
}

/** The record as units.json holds it (with an earlier version's `owe` still in it). */
export async function readRecordFile(host: Host): Promise<UnitsRecord> {
  const text = await host.readText(UNITS_RECORD);
  if (text === null) return emptyRecord();
  try {
    const r = JSON.parse(text) as UnitsRecord;
    return { formatVersion: 1, units: r.units ?? {} };
  } catch {
    throw new Error(`${host.resolve(UNITS_RECORD)} is not valid JSON; move it aside to start over`);
  }
}

/** The record with each unit's debt from the ledger (an earlier version's `owe` when the ledger has none). */
export async function readRecord(host: Host): Promise<UnitsRecord> {
  const [record, owed] = await Promise.all([readRecordFile(host), readOwed(host)]);
  for (const [name, verb] of Object.entries(owed)) record.units[name] = { files: record.units[name]?.files ?? [], owe: verb };
  return record;
}

/** Read-modify-write of one unit's entry; `null` forgets the unit. */
export async function updateRecord(host: Host, name: string, entry: Pick<UnitRecord, 'files'> | null): Promise<boolean> {
  return updateRecords(host, { [name]: entry });
}

/**
 * One read-modify-write of units.json for many units (an apply of hundreds of units writes the
 * file once). An entry written loses an earlier version's `owe`: the caller settles or notes the
 * debt in the ledger.
 */
export async function updateRecords(host: Host, entries: Record<string, Pick<UnitRecord, 'files'> | null>): Promise<boolean> {
  const record = await readRecordFile(host);
  const before = JSON.stringify(record.units);
  for (const [name, entry] of Object.entries(entries)) {
    if (entry === null || entry.files.length === 0) delete record.units[name];
    else record.units[name] = { files: [...entry.files].sort() };
  }
  if (JSON.stringify(record.units) === before) return false;
  await host.writeFile(UNITS_RECORD, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  return true;
}
