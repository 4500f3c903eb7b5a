/**
 * `--limit SEL` (DESIGN §8.3): which hosts of a fleet a command works on. Ansible's host patterns,
 * without its regular expressions:
 *   web*          hosts whose name matches the glob (`*` any run of characters, `?` one; nothing else is special)
 *   group:web     the hosts of group web
 *   !web3         minus these hosts (any of the two forms after `!`)
 *   &group:dc1    only hosts that are also in this set
 * Terms are separated by commas, or the flag is given again. The result is the union of the plain
 * terms, then intersected with each `&` term, then each `!` term removed. With no plain term the
 * start is every host (`!web3` alone = all but web3). A term that names no host, an unknown group,
 * or an empty term is an error, with a did-you-mean where a name is close.
 */
import { UserError } from '../errors.js';
import { closest } from '../distance.js';
import type { Fleet } from './inventory.js';

/** The part of a Fleet a selection reads: host names and each host's groups, and the groups declared. */
export type SelectableFleet = Pick<Fleet, 'hosts' | 'groups'>;

/**
 * The hosts `terms` select, by name. `terms` are the values of each `--limit` flag as given (each
 * may hold comma-separated terms); an empty list selects every host. Throws UserError (exit 1)
 * naming the bad term. For `review --limit`, `fleet status --limit`: `selectHosts(fleet, values.limit ?? [])`.
 */
export function selectHosts(fleet: SelectableFleet, terms: readonly string[]): Set<string> {
  const all = [...fleet.hosts.keys()];
  if (!terms.length) return new Set(all);
  const parsed = terms.flatMap((flag) => flag.split(',').map((raw) => parseTerm(raw.trim(), flag)));
  const plain = parsed.filter((t) => t.op === '');
  let out = new Set(plain.length ? plain.flatMap((t) => [...resolve(fleet, t)]) : all);
  for (const t of parsed.filter((x) => x.op === '&')) {
    const keep = resolve(fleet, t);
    out = new Set([...out].filter((h) => keep.has(h)));
  }
  for (const t of parsed.filter((x) => x.op === '!')) for (const h of resolve(fleet, t)) out.delete(h);
  // Fleet order (fleet.yaml, then inventory files), whatever order the terms came in.
  return new Set(all.filter((h) => out.has(h)));
}

interface Term {
  op: '' | '!' | '&';
  group?: string;
  glob?: string;
  /** As written, for messages (quoted when it holds control characters). */
  shown: string;
}

const show = (s: string) => (/^[\p{L}\p{N}._*?:!&@+-]+$/u.test(s) ? s : JSON.stringify(s));

function parseTerm(term: string, flag: string): Term {
  if (term === '') throw new UserError(`--limit ${JSON.stringify(flag)}: an empty term; terms are separated by single commas, e.g. --limit 'web*,!web3'`);
  const op = term[0] === '!' || term[0] === '&' ? (term[0] as '!' | '&') : '';
  const body = term.slice(op.length);
  if (body === '') throw new UserError(`--limit: ${show(term)} says nothing after ${op}; give a host glob or group:NAME after it`);
  if (body[0] === '!' || body[0] === '&') throw new UserError(`--limit: ${show(term)}: one of ! and & per term`);
  if (body.startsWith('group:')) {
    const group = body.slice('group:'.length);
    if (group === '') throw new UserError(`--limit: ${show(term)} names no group; say group:NAME`);
    return { op, group, shown: show(term) };
  }
  return { op, glob: body, shown: show(term) };
}

function resolve(fleet: SelectableFleet, t: Term): Set<string> {
  if (t.group !== undefined) {
    if (!fleet.groups.has(t.group) && ![...fleet.hosts.values()].some((h) => h.groups.includes(t.group!))) {
      throw new UserError(`--limit: ${t.shown}: no group ${show(t.group)} in the fleet${didYouMean(t.group, groupNames(fleet), 'group:')}`);
    }
    return new Set([...fleet.hosts.values()].filter((h) => h.groups.includes(t.group!)).map((h) => h.name));
  }
  const re = globRegExp(t.glob!);
  const found = [...fleet.hosts.keys()].filter((n) => re.test(n));
  if (!found.length) throw new UserError(`--limit: ${t.shown} matches no host of the fleet${didYouMean(t.glob!, [...fleet.hosts.keys()], '')}`);
  return new Set(found);
}

function groupNames(fleet: SelectableFleet): string[] {
  return [...new Set([...fleet.groups.keys(), ...[...fleet.hosts.values()].flatMap((h) => h.groups)])];
}

/** `*` and `?` are wildcards; every other character, regular-expression metacharacters included, is itself. */
export function globRegExp(glob: string): RegExp {
  const body = [...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}*?/]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 'su');
}

function didYouMean(what: string, names: string[], prefix: string): string {
  const best = closest(what.replace(/[*?]/g, ''), names);
  return best ? ` (did you mean ${prefix}${best}?)` : '';
}
