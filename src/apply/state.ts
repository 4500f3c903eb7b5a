import type { Host } from '../host/host.js';
import { UserError } from '../errors.js';
import type { SpecRef } from '../plan/types.js';

export const STATE_DIR = '/var/lib/reconcile';
export const STATE_FILE = `${STATE_DIR}/state.json`;

/**
 * One address reconcile manages or managed. `created` lists what reconcile brought into being there
 * (kind-defined parts: 'fstab line', 'line', 'directory', 'files', 'port pin'); empty when it only
 * edited what was already on the host. Only created parts are removed when the address leaves the
 * spec: what an operator wrote by hand and reconcile merely edited is left as it is (`state: absent`
 * removes it whoever made it).
 * `pending`: written before the steps that create it run, cleared once they completed, so an apply
 * killed in between still leaves the intent (see resolvePending in src/apply/apply.ts).
 */
export interface OwnedEntry {
  kind: string;
  created: string[];
  pending?: true;
}

/** What reconcile has applied on this host: the addresses it owns, by kind. */
export interface State {
  formatVersion: 2;
  owned: Record<string, OwnedEntry>;
  lastApply?: { at: string; spec: SpecRef };
}

export async function readState(host: Host): Promise<State> {
  const text = await host.readText(STATE_FILE);
  if (text === null) return { formatVersion: 2, owned: {} };
  let state: { formatVersion?: unknown; owned?: Record<string, unknown>; lastApply?: State['lastApply'] };
  try {
    state = JSON.parse(text) as typeof state;
  } catch {
    throw new UserError(`${host.resolve(STATE_FILE)} is not valid JSON; move it aside to start over (reconcile then owns nothing it applied before)`);
  }
  if (state.formatVersion === 1) {
    // Version 1 recorded every address an apply edited, without saying whether reconcile made it;
    // removing a hand-written entry loses the operator's work, keeping one of ours only leaves it,
    // so these count as edited, not created (`state: absent` still removes them).
    const owned: Record<string, OwnedEntry> = {};
    for (const [address, kind] of Object.entries(state.owned ?? {})) if (typeof kind === 'string') owned[address] = { kind, created: [] };
    return { formatVersion: 2, owned, lastApply: state.lastApply };
  }
  if (state.formatVersion !== 2) {
    throw new UserError(`${host.resolve(STATE_FILE)} has format version ${String(state.formatVersion)}, which this reconcile does not read (it reads 1 and 2); use the reconcile that wrote it`);
  }
  return { formatVersion: 2, owned: (state.owned as Record<string, OwnedEntry> | undefined) ?? {}, lastApply: state.lastApply };
}

export async function writeState(host: Host, state: State): Promise<void> {
  await host.writeFile(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

/**
 * By kind, the addresses where reconcile created something (pending intents included: what leaving
 * the spec may remove) and what it created at each (exports: the line, the directory). One pass
 * over the state: a plan of 800 resources asked this per kind, walking every entry each time.
 */
export function createdByKind(state: State): Map<string, Record<string, string[]>> {
  const byKind = new Map<string, Record<string, string[]>>();
  for (const [address, o] of Object.entries(state.owned)) {
    if (!o.created.length) continue;
    let created = byKind.get(o.kind);
    if (!created) byKind.set(o.kind, (created = {}));
    created[address] = o.created;
  }
  return byKind;
}
