/**
 * Redis keys of a fleet (DESIGN §8.5). A host name is a key part: percent-encoded, so a name read
 * from anywhere (a forged `seen` member, a command-line argument) can never reach another key,
 * a pattern or a `:` boundary. Inventory names (letters, digits, `.`, `-`) stay readable.
 */
export const part = (s: string) => encodeURIComponent(s).replace(/[*?[\]{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function fleetKeys(fleet: string) {
  const base = `reconcile:${part(fleet)}`;
  return {
    status: (host: string) => `${base}:status:${part(host)}`,
    seen: `${base}:seen`,
    events: `${base}:events`,
    /** Status writes are announced here (the message is the host's name): after: waiters wake on it. */
    channel: `${base}:status-changed`,
    unblock: (host: string) => `${base}:unblock:${part(host)}`,
    /** Redis time of the first status write into this data set: young after Redis lost its data. */
    epoch: `${base}:epoch`,
  };
}
