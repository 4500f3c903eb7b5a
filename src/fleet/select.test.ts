import { describe, expect, it } from 'vitest';
import { selectHosts, type SelectableFleet } from './select.js';

/** A fleet of names and groups only: all a selection reads. */
function fleet(hosts: Record<string, string[]>, groups: string[] = []): SelectableFleet {
  return {
    hosts: new Map(Object.entries(hosts).map(([name, g]) => [name, { name, groups: g }])) as unknown as SelectableFleet['hosts'],
    groups: new Map([...new Set([...groups, ...Object.values(hosts).flat()])].map((g) => [g, { name: g }])) as unknown as SelectableFleet['groups'],
  };
}

const F = fleet({ web1: ['web', 'dc1'], web2: ['web', 'dc2'], web3: ['web', 'dc1'], db1: ['db', 'dc1'], 'a.b': [], 'aXb': [], 'ünï1': ['intl'] }, ['empty']);
const sel = (...terms: string[]) => [...selectHosts(F, terms)];
const fails = (...terms: string[]) => {
  try {
    selectHosts(F, terms);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`no error for ${JSON.stringify(terms)}`);
};

describe('selectHosts (--limit)', () => {
  it('no term selects every host, in fleet order', () => {
    expect(sel()).toEqual(['web1', 'web2', 'web3', 'db1', 'a.b', 'aXb', 'ünï1']);
  });

  it('globs, groups, union, then intersections, then exclusions (Ansible order, whatever the term order)', () => {
    expect(sel('web*')).toEqual(['web1', 'web2', 'web3']);
    expect(sel('group:db')).toEqual(['db1']);
    expect(sel('db1,web?')).toEqual(['web1', 'web2', 'web3', 'db1']);
    expect(sel('!web3,group:web')).toEqual(['web1', 'web2']);
    expect(sel('&group:dc1', 'web*,db1')).toEqual(['web1', 'web3', 'db1']);
    expect(sel('web*,&group:dc1,!web1')).toEqual(['web3']);
    expect(sel('web*', '&group:dc1', '!web1')).toEqual(['web3']);
  });

  it('only exclusions or intersections start from every host', () => {
    expect(sel('!group:web')).toEqual(['db1', 'a.b', 'aXb', 'ünï1']);
    expect(sel('&group:dc1')).toEqual(['web1', 'web3', 'db1']);
  });

  it('a group with no host selects none, and is not an error', () => {
    expect(sel('group:empty')).toEqual([]);
  });

  it('regular-expression metacharacters in a glob are themselves', () => {
    expect(sel('a.b')).toEqual(['a.b']);
    expect(sel('a.*')).toEqual(['a.b']);
    expect(fails('a.c')).toBe('--limit: a.c matches no host of the fleet (did you mean a.b?)');
    expect(fails('web[12]')).toMatch(/^--limit: "web\[12\]" matches no host of the fleet/);
    expect(fails('(web1|db1)')).toMatch(/matches no host/);
    expect(fails('web1$')).toMatch(/matches no host/);
    expect(fails('^web1')).toMatch(/matches no host/);
    expect(fails('w+')).toMatch(/matches no host/);
    expect(fails('\\w*')).toMatch(/matches no host/);
  });

  it('unicode: a name matches by code point, ? is one character', () => {
    expect(sel('ünï?')).toEqual(['ünï1']);
    expect(sel('group:intl')).toEqual(['ünï1']);
    expect(fails('unï1')).toBe('--limit: unï1 matches no host of the fleet (did you mean ünï1?)');
  });

  it('hostile terms are errors naming the term', () => {
    expect(fails('')).toBe(`--limit "": an empty term; terms are separated by single commas, e.g. --limit 'web*,!web3'`);
    expect(fails('web1,,db1')).toMatch(/^--limit "web1,,db1": an empty term/);
    expect(fails('web1', 'web1,')).toMatch(/^--limit "web1,": an empty term/);
    expect(fails(' , ')).toMatch(/^--limit " , ": an empty term/);
    expect(fails('!')).toBe('--limit: ! says nothing after !; give a host glob or group:NAME after it');
    expect(fails('&')).toBe('--limit: & says nothing after &; give a host glob or group:NAME after it');
    expect(fails('!!web1')).toBe('--limit: !!web1: one of ! and & per term');
    expect(fails('group:')).toBe('--limit: group: names no group; say group:NAME');
    expect(fails('!group:')).toBe('--limit: !group: names no group; say group:NAME');
    expect(fails('group:wbe')).toBe('--limit: group:wbe: no group wbe in the fleet (did you mean group:web?)');
    expect(fails('group:zzzzzz')).toBe('--limit: group:zzzzzz: no group zzzzzz in the fleet');
    expect(fails('web4')).toBe('--limit: web4 matches no host of the fleet (did you mean web1?)');
    expect(fails('!nosuch')).toBe('--limit: !nosuch matches no host of the fleet');
    expect(fails('web1\nx')).toBe('--limit: "web1\\nx" matches no host of the fleet (did you mean web1?)');
    expect(fails('web1\u0000')).toMatch(/^--limit: "web1\\u0000" matches no host/);
  });
});
