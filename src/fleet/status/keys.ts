/**
 * Redis keys of a fleet (DESIGN §8.5). A host name is a key part: percent-encoded, so a name read
 * from anywhere (a forged `seen` member, a command-line argument) can never reach another key,
 * a pattern or a `:` boundary. Inventory names (letters, digits, `.`, `-`) stay readable.
 */
import { eventsKey, fleetPrefix, keyPart } from '../../locks/slots.js';

/** One encoding for every key part of the fleet, the rollout slots' included. */
export const part = keyPart;

export function fleetKeys(fleet: string) {
  const base = fleetPrefix(fleet).slice(0, -1);
  return {
    status: (host: string) => `${base}:status:${part(host)}`,
    seen: `${base}:seen`,
    events: eventsKey(fleet),
    /** Status writes are announced here (the message is the host's name): after: waiters wake on it. */
    channel: `${base}:status-changed`,
    unblock: (host: string) => `${base}:unblock:${part(host)}`,
    /** Redis time of the first status write into this data set: young after Redis lost its data. */
    epoch: `${base}:epoch`,
  };
}
