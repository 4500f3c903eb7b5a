import { describe, expect, it } from 'vitest';
import { effectiveOptions, parseExports, parseExportfsV, renderEntry } from './parse.js';

const SAMPLE = `# /etc/exports
/srv/homes       hostname1(rw,sync,no_subtree_check) hostname2(ro,sync,no_subtree_check)
"/srv/with space" -ro,sync *(no_subtree_check) 10.0.0.0/8(rw)
/srv/nfs4        gss/krb5i(rw,sync,fsid=0,crossmnt,no_subtree_check) \\
                 @trusted(rw)   # trailing comment
/srv/oct\\040al   (ro)

/srv/last host`;

describe('exports(5)', () => {
  const lines = parseExports(SAMPLE);

  it('round-trips every byte, including continuations and a missing final newline', () => {
    expect(lines.map((l) => l.raw).join('')).toBe(SAMPLE);
  });

  it('parses quoted and octal paths, line defaults, continuation clients, anonymous clients', () => {
    const entries = lines.filter((l) => l.entry).map((l) => l.entry!);
    expect(entries.map((e) => e.path)).toEqual(['/srv/homes', '/srv/with space', '/srv/nfs4', '/srv/oct al', '/srv/last']);
    expect(entries[1]).toEqual({ path: '/srv/with space', defaults: ['ro', 'sync'], clients: [{ host: '*', options: ['no_subtree_check'] }, { host: '10.0.0.0/8', options: ['rw'] }] });
    expect(entries[2]!.clients.map((c) => c.host)).toEqual(['gss/krb5i', '@trusted']);
    expect(entries[3]!.clients).toEqual([{ host: '', options: ['ro'] }]);
    expect(lines.find((l) => l.entry?.path === '/srv/nfs4')!.line).toBe(4);
    expect(lines.find((l) => l.entry?.path === '/srv/oct al')!.line).toBe(6);
  });

  it('an escape is a byte of the path, whatever it encodes: no split, no quote, no comment, UTF-8 across escapes', () => {
    const paths = parseExports('/srv/caf\\303\\251\\040x h(ro)\n/srv/q\\042x h(ro)\n/srv/h\\043x h(ro)\n"/srv/raw café" h(ro)\n')
      .filter((l) => l.entry)
      .map((l) => [l.entry!.path, l.entry!.clients.map((c) => c.host)]);
    expect(paths).toEqual([
      ['/srv/café x', ['h']],
      ['/srv/q"x', ['h']],
      ['/srv/h#x', ['h']],
      ['/srv/raw café', ['h']],
    ]);
  });

  it('a client option overrides a line default of the same family', () => {
    expect(effectiveOptions(['ro', 'sync'], ['rw'])).toEqual(['rw', 'sync']);
    expect(effectiveOptions([], ['anonuid=1', 'anonuid=2'])).toEqual(['anonuid=2']);
  });

  it('renders paths with blanks quoted the way exportfs reads them', () => {
    const e = { path: '/srv/with space', defaults: [], clients: [{ host: '*', options: ['ro'] }] };
    expect(renderEntry(e)).toBe('"/srv/with space" *(ro)');
    expect(parseExports(`${renderEntry(e)}\n`)[0]!.entry).toEqual(e);
  });
});

describe('exportfs -v', () => {
  it('reads short lines, wrapped long paths, and <world>', () => {
    const out = [
      '/tmp/ex/a     \t127.0.0.1(sync,wdelay,hide,no_subtree_check,sec=sys,rw,root_squash,no_all_squash)',
      '/tmp/ex/a very long directory name that wraps around',
      '\t\t10.0.0.0/8(sync,wdelay,hide,no_subtree_check,sec=sys,ro,root_squash,no_all_squash)',
      '/tmp/ex/a     \t<world>(sync,ro)',
    ].join('\n');
    expect(parseExportfsV(out).map((e) => [e.path, e.host])).toEqual([
      ['/tmp/ex/a', '127.0.0.1'],
      ['/tmp/ex/a very long directory name that wraps around', '10.0.0.0/8'],
      ['/tmp/ex/a', '*'],
    ]);
  });
});
