import type { Host } from './host.js';

/** Users and groups as the root's own `etc/passwd` and `etc/group` name them. */
export interface Accounts {
  users: Map<string, number>;
  groups: Map<string, number>;
}

export function parseIdFile(text: string): Map<string, number> {
  const ids = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(':');
    const id = Number(fields[2]);
    if (fields[0] && Number.isInteger(id)) ids.set(fields[0], id);
  }
  return ids;
}

export async function readAccounts(host: Host): Promise<Accounts> {
  const [passwd, group] = await Promise.all([host.readText('/etc/passwd'), host.readText('/etc/group')]);
  return { users: parseIdFile(passwd ?? ''), groups: parseIdFile(group ?? '') };
}

/**
 * A user or group as a spec gives it (a name, or a numeric id as number or digits) to its number;
 * undefined for a name the table does not hold (own entries only: `constructor` is no user).
 */
export function idOf(ids: Readonly<Record<string, number>>, nameOrId: string | number): number | undefined {
  if (typeof nameOrId === 'number') return nameOrId;
  if (/^\d+$/.test(nameOrId)) return Number(nameOrId);
  return Object.hasOwn(ids, nameOrId) ? ids[nameOrId] : undefined;
}
