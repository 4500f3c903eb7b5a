import { describe, expect, it } from 'vitest';
import { check } from '../check.js';
import { formatDiagnostic } from '../../errors.js';

const errors = async (yaml: string) => (await check(yaml, 'spec.yaml', {})).diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);

describe('mounts validate', () => {
  it('names both spec entries for one mount point, however the path is spelt', async () => {
    expect(await errors('host: h\nmounts:\n  - {path: /x, source: a, type: tmpfs}\n  - {path: /x/, source: b, type: tmpfs}\n')).toEqual([
      'spec.yaml:4:12: mounts: /x/ is mounted twice (here and at line 3, as /x)',
    ]);
    expect(await errors('host: h\nmounts:\n  - {path: /x, source: a, type: tmpfs}\n  - {path: /x, source: b, type: tmpfs}\n')).toEqual([
      'spec.yaml:4:12: mounts: /x is mounted twice (here and at line 3)',
    ]);
  });
  it('refuses a password in options', async () => {
    expect(await errors('host: h\nmounts:\n  - {path: /x, source: //h/s, type: cifs, options: [password=x]}\n')).toEqual([
      'spec.yaml:3:53: mounts[/x].options[0]: a plaintext password is not allowed in options; use credentials: {username, password: {env: NAME}}',
    ]);
  });
  it('refuses credentials on a mount that is not CIFS', async () => {
    expect(await errors('host: h\nmounts:\n  - path: /x\n    source: h:/s\n    type: nfs\n    credentials: {username: u, password: {env: P}}\n')).toEqual([
      'spec.yaml:6:18: mounts[/x]: credentials are for cifs mounts, not nfs',
    ]);
  });
  it('takes credentials on cifs and smb3', async () => {
    for (const type of ['cifs', 'smb3']) {
      expect(await errors(`host: h\nmounts:\n  - path: /x\n    source: //h/s\n    type: ${type}\n    credentials: {username: u, password: {env: P}}\n`)).toEqual([]);
    }
  });
});
