import type { Host } from './host.js';

/**
 * The one ledger of restarts owed to systemd units between applies (root-relative
 * /var/lib/reconcile/restarts-owed.json), shared by every kind that changes what a unit reads:
 * the debt is noted before the files are written and settled after the restart ran, so an apply
 * that stops in between leaves it for the next one. Keyed by unit name (`nfs-kernel-server.service`),
 * so two kinds that owe the same unit a restart owe it once.
 */
export const RESTARTS_OWED = '/var/lib/reconcile/restarts-owed.json';

export type OwedVerb = 'restart' | 'reload';

interface OwedFile {
  formatVersion: 1;
  owed: Record<string, OwedVerb>;
}

export async function readOwed(host: Host): Promise<Record<string, OwedVerb>> {
  const text = await host.readText(RESTARTS_OWED);
  if (text === null) return {};
  try {
    return (JSON.parse(text) as OwedFile).owed ?? {};
  } catch {
    throw new Error(`${host.resolve(RESTARTS_OWED)} is not valid JSON; move it aside to start over`);
  }
}

/** One read-modify-write for many units; `null` settles a unit's debt. Writes nothing when nothing changes. */
export async function updateOwed(host: Host, entries: Record<string, OwedVerb | null>): Promise<boolean> {
  const owed = await readOwed(host);
  const before = JSON.stringify(owed);
  for (const [unit, verb] of Object.entries(entries)) {
    if (verb === null) delete owed[unit];
    else owed[unit] = verb;
  }
  if (JSON.stringify(owed) === before) return false;
  const sorted = Object.fromEntries(Object.entries(owed).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  await host.writeFile(RESTARTS_OWED, `${JSON.stringify({ formatVersion: 1, owed: sorted } satisfies OwedFile, null, 2)}\n`, { mode: 0o600 });
  return true;
}
