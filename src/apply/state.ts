import type { Host } from '../host/host.js';
import { UserError } from '../errors.js';
import type { SpecRef } from '../plan/types.js';

export const STATE_DIR = '/var/lib/reconcile';
export const STATE_FILE = `${STATE_DIR}/state.json`;

/** What reconcile has applied on this host: the addresses it owns, by kind. */
export interface State {
  formatVersion: 1;
  owned: Record<string, string>;
  lastApply?: { at: string; spec: SpecRef };
}

export async function readState(host: Host): Promise<State> {
  const text = await host.readText(STATE_FILE);
  if (text === null) return { formatVersion: 1, owned: {} };
  let state: State;
  try {
    state = JSON.parse(text) as State;
  } catch {
    throw new UserError(`${host.resolve(STATE_FILE)} is not valid JSON; move it aside to start over (reconcile then owns nothing it applied before)`);
  }
  if (state.formatVersion !== 1) {
    throw new UserError(`${host.resolve(STATE_FILE)} has format version ${String(state.formatVersion)}, which this reconcile does not read (it reads 1); use the reconcile that wrote it`);
  }
  return { formatVersion: 1, owned: state.owned ?? {}, lastApply: state.lastApply };
}

export async function writeState(host: Host, state: State): Promise<void> {
  await host.writeFile(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

export function ownedOfKind(state: State, kind: string): string[] {
  return Object.entries(state.owned)
    .filter(([, k]) => k === kind)
    .map(([address]) => address);
}
