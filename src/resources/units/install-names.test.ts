import { describe, expect, it } from 'vitest';
import { badInstallNames, installNameProblem } from './install-names.js';
import { enablementLinks } from './links.js';
import { parseInstall } from './unitfile.js';

describe('[Install] values are unit names', () => {
  it('accepts unit names, instances, escapes and specifiers', () => {
    for (const v of ['multi-user.target', 'getty@tty1.service', 'dev-disk-by\\x2duuid-1.device', '%p-alias.service', 'a:b_c.socket', '%N.target']) {
      expect(installNameProblem(v), v).toBeNull();
    }
  });

  it('refuses paths, .., hidden names, other suffixes, NUL and overlong names', () => {
    for (const v of ['../../../etc/passwd', '/etc/passwd', 'a/b.target', '..', '.hidden.target', 'x.wants', 'x.target\0', 'x target', `${'a'.repeat(250)}.target`, '-']) {
      expect(installNameProblem(v), v).not.toBeNull();
    }
  });

  it('finds each bad value with its line, in [Install] only', () => {
    const text = '[Service]\nWantedBy=../x\n[Install]\nWantedBy=multi-user.target ../../../tmp/x.target\nAlias=/etc/passwd\nAlso=y.service\n';
    expect(badInstallNames(text).map((b) => [b.line, b.key, b.value])).toEqual([
      [4, 'WantedBy', '../../../tmp/x.target'],
      [5, 'Alias', '/etc/passwd'],
    ]);
  });

  it('a host unit file with such a value is refused when its links are computed, naming the file', () => {
    const frag = (text: string) => ({ path: '/lib/systemd/system/evil.service', install: parseInstall(text) });
    expect(() => enablementLinks('evil.service', { 'evil.service': frag('[Install]\nAlias=../../../etc/passwd\n') })).toThrow(
      '/lib/systemd/system/evil.service: [Install] Alias=../../../etc/passwd is a path, not a unit name; not creating a link for it',
    );
    expect(() => enablementLinks('evil.service', { 'evil.service': frag('[Install]\nWantedBy=../../outside.target\n') })).toThrow(/WantedBy=/);
    expect(() => enablementLinks('evil.service', { 'evil.service': frag('[Install]\nAlso=../x.service\n') })).toThrow(/Also=/);
    expect(enablementLinks('ok.service', { 'ok.service': { ...frag('[Install]\nWantedBy=multi-user.target\n'), path: '/lib/systemd/system/ok.service' } })).toEqual({
      '/etc/systemd/system/multi-user.target.wants/ok.service': '/lib/systemd/system/ok.service',
    });
  });
});
