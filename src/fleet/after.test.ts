import { describe, expect, it } from 'vitest';
import type { Fleet, FleetHost } from './inventory.js';
import { derivedEdges } from './after.js';

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
