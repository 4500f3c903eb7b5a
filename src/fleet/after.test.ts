import { describe, expect, it } from 'vitest';
import type { Fleet, FleetHost } from './inventory.js';
import { derivedEdges, reverseEdges } from './after.js';
import { removalEdges } from './removals.js';
import { editFile } from '../plan/filediff.js';
import type { Change, Plan } from '../plan/types.js';

function fleetOf(hosts: Partial<FleetHost>[]): Fleet {
  const map = new Map(hosts.map((h) => [h.name!, { addresses: [], names: [], seenAs: [], groups: [], after: [], spec: '', ...h } as FleetHost]));
  return { hosts: map } as Fleet;
}

describe('derived after: edges (DESIGN §8.4 rule 7)', () => {
  const fleet = fleetOf([
    { name: 'db1', addresses: ['10.0.0.1/24'] },
    { name: 'db2', addresses: ['10.0.0.2/24'] },
    { name: 'nfs1', addresses: ['10.0.0.3/24', 'fd00::3/64'] },
    { name: 'web1', addresses: ['10.0.0.4/24'], after: [] },
  ]);

  it('a standby after its primary, an NFS mount after its server (IPv4 and bracketed IPv6); other mounts and sources are not edges', () => {
    const spec = {
      postgres: { role: 'standby', primary: { host: '10.0.0.1', port: 5432 } },
      mounts: [
        { path: '/mnt/a', source: '10.0.0.3:/data/a', type: 'nfs' },
        { path: '/mnt/b', source: '[fd00::3]:/data/b', type: 'nfs4' },
        { path: '/mnt/c', source: '//10.0.0.3/share', type: 'cifs' },
        { path: '/mnt/d', source: '192.168.9.9:/elsewhere', type: 'nfs' },
      ],
    };
    expect(derivedEdges(fleet, fleet.hosts.get('db2')!, spec).map((e) => `${e.host}: ${e.because}`)).toEqual([
      'db1: standby after its primary',
      'nfs1: mount /mnt/a after its export',
      'nfs1: mount /mnt/b after its export',
    ]);
  });

  it('a primary has no derived edge, and one that would close a cycle with declared edges is left out', () => {
    expect(derivedEdges(fleet, fleet.hosts.get('db1')!, { postgres: { role: 'primary' } })).toEqual([]);
    const cyclic = fleetOf([
      { name: 'db1', addresses: ['10.0.0.1/24'], after: ['db2'] },
      { name: 'db2', addresses: ['10.0.0.2/24'] },
    ]);
    expect(derivedEdges(cyclic, cyclic.hosts.get('db2')!, { postgres: { role: 'standby', primary: { host: '10.0.0.1' } } })).toEqual([]);
  });
});

describe('migrations after their primary', () => {
  const fleet = fleetOf([
    { name: 'db1', addresses: ['10.0.0.1/24'], names: ['db1.example.internal'] },
    { name: 'app1', addresses: ['10.0.0.5/24'] },
  ]);
  it('a host whose migrations name server: HOST runs after HOST, by name, alias or address; a server outside the fleet is no edge', () => {
    for (const server of ['db1', 'DB1', 'db1.example.internal', 'DB1.Example.Internal', '10.0.0.1']) {
      expect(derivedEdges(fleet, fleet.hosts.get('app1')!, { migrations: [{ name: 'm', server, dbname: 'app' }] })).toEqual([{ host: 'db1', because: 'migrations after their primary' }]);
    }
    expect(derivedEdges(fleet, fleet.hosts.get('app1')!, { migrations: [{ name: 'm', server: '192.168.7.7', dbname: 'app' }, { name: 'n' }] })).toEqual([]);
  });
  it('follows the cycle rule of the other derived edges: a declared edge the other way wins', () => {
    const cyclic = fleetOf([
      { name: 'db1', addresses: ['10.0.0.1/24'], after: ['app1'] },
      { name: 'app1', addresses: ['10.0.0.5/24'] },
    ]);
    expect(derivedEdges(cyclic, cyclic.hosts.get('app1')!, { migrations: [{ name: 'm', server: 'db1', dbname: 'app' }] })).toEqual([]);
    // And the primary's own migrations are no edge to itself.
    expect(derivedEdges(fleet, fleet.hosts.get('db1')!, { migrations: [{ name: 'm', server: 'db1', dbname: 'app' }] })).toEqual([]);
  });
  it('a mount on its way out (absent, unmounted) waits for no export', () => {
    const f = fleetOf([{ name: 'nfs1', addresses: ['10.0.0.3/24'] }, { name: 'web1', addresses: ['10.0.0.4/24'] }]);
    const mount = (state: string) => ({ mounts: [{ path: '/mnt/a', source: '10.0.0.3:/data/a', type: 'nfs', state }] });
    expect(derivedEdges(f, f.hosts.get('web1')!, mount('mounted'))).toHaveLength(1);
    expect(derivedEdges(f, f.hosts.get('web1')!, mount('absent'))).toEqual([]);
    expect(derivedEdges(f, f.hosts.get('web1')!, mount('unmounted'))).toEqual([]);
  });
});

describe('removals run in reverse: edges from the plan', () => {
  const fleet = fleetOf([
    { name: 'nfs1', addresses: ['10.0.0.3/24'] },
    { name: 'web1', addresses: ['10.0.0.4/24'], names: ['web1.example.internal'] },
    { name: 'web2', addresses: ['10.0.0.5/24'] },
    { name: 'far1', addresses: ['192.168.5.5/24'], seenAs: ['10.0.0.200'] },
    { name: 'db1', addresses: ['10.0.0.1/24'] },
  ]);
  const nfs1 = fleet.hosts.get('nfs1')!;
  const EXPORTS = '# kept\n/srv/other 10.0.0.0/24(ro)\n/data/share 10.0.0.4(rw) web2(rw) *.example.internal(ro) 10.0.0.200(ro) *(ro)\n';

  /** A plan whose exports change rewrites /data/share's line to `line`, or deletes it. */
  function exportsPlan(line: string | null): Pick<Plan, 'changes' | 'files'> {
    const address = 'exports[/data/share]';
    const { file } = editFile('/etc/exports', EXPORTS, [{ owner: address, start: 2, remove: 1, insert: line === null ? [] : [line] }]);
    const change: Change = { address, kind: 'exports', action: line === null ? 'delete' : 'update', risk: 'disruptive', summary: '', diff: '', steps: [] };
    return { changes: [change], files: [file] };
  }
  const hosts = (edges: { host: string }[]) => edges.map((e) => e.host).sort();

  it('an export removed: every fleet host one of its clients admitted (address, name, wildcard, seenAs); `*` names no host', () => {
    const edges = removalEdges(fleet, nfs1, exportsPlan(null), {});
    expect(hosts(edges)).toEqual(['far1', 'web1', 'web2']);
    expect(edges.find((e) => e.host === 'web1')!.because).toBe('exports[/data/share] is removed: web1 stops using it first');
  });

  it('a client removed: the hosts only it admitted; a host another kept entry still admits loses nothing', () => {
    // 10.0.0.4 goes, but *.example.internal still admits web1 by its name: no edge to web1.
    expect(hosts(removalEdges(fleet, nfs1, exportsPlan('/data/share web2(rw) *.example.internal(ro) 10.0.0.200(ro) *(ro)'), {}))).toEqual([]);
    const edges = removalEdges(fleet, nfs1, exportsPlan('/data/share 10.0.0.4(rw) *(ro)'), {});
    expect(hosts(edges)).toEqual(['far1', 'web2']);
    expect(edges.find((e) => e.host === 'web2')!.because).toBe('exports[/data/share] loses client web2: web2 stops using it first');
    // Options changed, no client gone: nobody loses the export.
    expect(removalEdges(fleet, nfs1, exportsPlan('/data/share 10.0.0.4(ro) web2(ro) *.example.internal(ro) 10.0.0.200(ro) *(ro)'), {})).toEqual([]);
  });

  it('a network entry removed reaches the hosts inside it (CIDR containment), not those outside', () => {
    const address = 'exports[/srv/other]';
    const { file } = editFile('/etc/exports', EXPORTS, [{ owner: address, start: 1, remove: 1, insert: [] }]);
    const plan = { changes: [{ address, kind: 'exports', action: 'delete', risk: 'disruptive', summary: '', diff: '', steps: [] } as Change], files: [file] };
    expect(hosts(removalEdges(fleet, nfs1, plan, {}))).toEqual(['db1', 'far1', 'web1', 'web2']);
  });

  it('a pg_hba.conf rule turned to reject: the hosts its address admits; other postgres changes remove nothing', () => {
    const spec = { postgres: { role: 'primary', hba: [{ type: 'host', database: 'replication', user: 'repl', address: '10.0.0.4/32', method: 'reject' }, { type: 'host', database: 'all', user: 'app', address: '10.0.0.0/24', method: 'scram-sha-256' }] } };
    const change = (address: string): Change => ({ address, kind: 'postgres', action: 'update', risk: 'reload', summary: '', diff: '', steps: [] });
    const db1 = fleet.hosts.get('db1')!;
    expect(removalEdges(fleet, db1, { changes: [change('postgres.hba[host replication repl 10.0.0.4/32]')] }, spec)).toEqual([{ host: 'web1', because: 'postgres.hba[host replication repl 10.0.0.4/32] becomes reject: web1 stops using it first' }]);
    expect(removalEdges(fleet, db1, { changes: [change('postgres.hba[host all app 10.0.0.0/24]'), change('postgres.users[repl]'), change('postgres.settings[work_mem]')] }, spec)).toEqual([]);
  });

  it('hostile client entries and rule addresses name no host and never throw', () => {
    for (const line of ['/data/share @netgroup(rw)', '/data/share (rw)', '/data/share 10.0.0.4/99(rw)', '/data/share 999.1.1.1(rw)', '/data/share [fe80::1](rw)', '/data/share a\\b(rw)', '/data/share "unterminated', '/data/share web9.example.org(rw)']) {
      const address = 'exports[/data/share]';
      const { file } = editFile('/etc/exports', `${line}\n`, [{ owner: address, start: 0, remove: 1, insert: [] }]);
      const plan = { changes: [{ address, kind: 'exports', action: 'delete', risk: 'disruptive', summary: '', diff: '', steps: [] } as Change], files: [file] };
      expect(hosts(removalEdges(fleet, nfs1, plan, {})), line).toEqual([]);
    }
    for (const address of ['all', 'samehost', 'samenet', '.example.internal', '10.0.0.0/99', 'web1.example.internal']) {
      const spec = { postgres: { hba: [{ type: 'host', database: 'all', user: 'all', address, method: 'reject' }] } };
      const plan = { changes: [{ address: `postgres.hba[host all all ${address}]`, kind: 'postgres', action: 'update', risk: 'reload', summary: '', diff: '', steps: [] } as Change] };
      const want = address.includes('example.internal') ? ['web1'] : [];
      expect(hosts(removalEdges(fleet, fleet.hosts.get('db1')!, plan, spec)), address).toEqual(want);
    }
  });
});

describe('reverse edges against the other host\'s own order', () => {
  it('a removal edge that would close a cycle (the client runs after this server, declared or derived) is left out', () => {
    const declared = fleetOf([{ name: 'nfs1', addresses: ['10.0.0.3/24'] }, { name: 'web1', addresses: ['10.0.0.4/24'], after: ['nfs1'] }]);
    const address = 'exports[/data/share]';
    const { file } = editFile('/etc/exports', '/data/share 10.0.0.4(rw)\n', [{ owner: address, start: 0, remove: 1, insert: [] }]);
    const plan = { changes: [{ address, kind: 'exports', action: 'delete', risk: 'disruptive', summary: '', diff: '', steps: [] } as Change], files: [file] };
    expect(reverseEdges(declared, declared.hosts.get('nfs1')!, {}, { plan, specOf: () => ({}) })).toEqual([]);
    const plain = fleetOf([{ name: 'nfs1', addresses: ['10.0.0.3/24'] }, { name: 'web1', addresses: ['10.0.0.4/24'] }]);
    const mounts = (state: string) => () => ({ mounts: [{ path: '/mnt/s', source: '10.0.0.3:/data/share', type: 'nfs', state }] });
    // web1 still mounts it at this commit: its mount runs after the export, so the export's removal cannot wait for it.
    expect(reverseEdges(plain, plain.hosts.get('nfs1')!, {}, { plan, specOf: mounts('mounted') })).toEqual([]);
    // web1 unmounts at this commit: the server waits for it.
    expect(reverseEdges(plain, plain.hosts.get('nfs1')!, {}, { plan, specOf: mounts('absent') })).toEqual([{ host: 'web1', because: 'exports[/data/share] is removed: web1 stops using it first' }]);
  });
});
