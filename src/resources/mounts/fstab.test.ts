import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeField, duplicateEntries, editFstab, encodeField, entryFor, parseFstab, renderFstab } from './fstab.js';

const dir = join(import.meta.dirname, 'testdata');
const corpus = readdirSync(dir).filter((f) => f.endsWith('.fstab'));

describe('fstab corpus', () => {
  it('is not empty', () => expect(corpus.length).toBeGreaterThan(3));
  for (const name of corpus) {
    const text = readFileSync(join(dir, name), 'utf8');
    it(`${name} round-trips byte for byte`, () => {
      expect(renderFstab(parseFstab(text))).toBe(text);
      expect(editFstab(parseFstab(text), new Map())).toBe(text);
    });
  }

  it('parses escapes, tags, optional dump/pass, swap, bind, nfs, cifs', () => {
    const f = parseFstab(readFileSync(join(dir, 'debian.fstab'), 'utf8'));
    const data = entryFor(f, '/srv/my data')!;
    expect(data).toMatchObject({ source: 'LABEL=My Data', type: 'ext4', options: ['defaults', 'noatime'], dump: 0, pass: 2, line: 14 });
    expect(entryFor(f, '/')!.source).toBe('UUID=2f0c9a4e-6a3b-4b8e-9d1e-3b6f1c2d4e5f');
    expect(entryFor(f, '/export/home')).toMatchObject({ options: ['bind'] });
    expect(entryFor(f, '/export/home')!.dump).toBeUndefined();
    expect(entryFor(f, '/export/home')!.pass).toBeUndefined();
    expect(entryFor(f, '/tmp')).toMatchObject({ source: 'tmpfs', type: 'tmpfs', options: ['defaults'] });
    expect(entryFor(f, '/mnt/140share')!.options).toEqual(['nfsvers=3', 'nolock', '_netdev']);
    expect(entryFor(f, '/media/cdrom0')!.type).toBe('udf,iso9660');
    const nf = parseFstab(readFileSync(join(dir, 'no-final-newline.fstab'), 'utf8'));
    expect(entryFor(nf, '/back\\slash')!.source).toBe('/dev/vdc1');
  });

  it('changes only the managed line, keeping its column separators', () => {
    const text = readFileSync(join(dir, 'debian.fstab'), 'utf8');
    const out = editFstab(
      parseFstab(text),
      new Map([['/mnt/140share', { source: '192.168.1.140:/data/share', path: '/mnt/140share', type: 'nfs', options: ['nfsvers=4', 'hard'], dump: 0, pass: 0 }]]),
    );
    const before = text.split('\n');
    const after = out.split('\n');
    expect(after.length).toBe(before.length);
    const differing = before.map((l, i) => (l === after[i] ? -1 : i)).filter((i) => i >= 0);
    expect(differing).toEqual([14]);
    expect(after[14]).toBe('192.168.1.140:/data/share  /mnt/140share  nfs  nfsvers=4,hard  0  0');
  });

  it('appends, removes, and adds the missing final newline before appending', () => {
    const text = readFileSync(join(dir, 'no-final-newline.fstab'), 'utf8');
    const out = editFstab(
      parseFstab(text),
      new Map([
        ['/data', null],
        ['/mnt/a b', { source: 'tmpfs', path: '/mnt/a b', type: 'tmpfs', options: ['size=1m'], dump: 0, pass: 0 }],
      ]),
    );
    expect(out).toBe('# no trailing newline\n/dev/vdc1\t/back\\134slash\text4\tdefaults\t0\t0\ntmpfs\t/mnt/a\\040b\ttmpfs\tsize=1m\t0\t0\n');
  });

  it('escapes each special character once', () => {
    expect(encodeField('a b\tc\nd\\e')).toBe('a\\040b\\011c\\012d\\134e');
    expect(decodeField(encodeField('a b\tc\nd\\e'))).toBe('a b\tc\nd\\e');
    expect(encodeField(decodeField('My\\040Data'))).toBe('My\\040Data');
  });

  it('finds two entries for one mount point, not swap lines', () => {
    const f = parseFstab('/dev/a /x ext4 defaults\n/dev/b none swap sw\n/dev/c none swap sw\n/dev/d /x/ xfs defaults\n');
    expect([...duplicateEntries(f)].map(([p, es]) => [p, es.map((e) => e.line)])).toEqual([['/x', [1, 4]]]);
  });
});
