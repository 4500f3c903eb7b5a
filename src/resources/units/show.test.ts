import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { isEnabled, isRunning, parseSystemctlShow, showArgv } from './show.js';

// Captured from `systemctl show -p ... -- dbus.service nope.service sleeper.service` in the test container.
const CAPTURED = readFileSync(path.join(import.meta.dirname, 'testdata', 'systemctl-show.txt'), 'utf8');

describe('parseSystemctlShow', () => {
  it('maps the blank-line separated blocks to the units in argv order', () => {
    const s = parseSystemctlShow(CAPTURED, ['dbus.service', 'nope.service', 'sleeper.service']);
    expect(s['dbus.service']).toEqual({
      loadState: 'loaded', activeState: 'active', subState: 'running', unitFileState: 'static', needDaemonReload: false,
      fragmentPath: '/lib/systemd/system/dbus.service', dropInPaths: [], mainPid: 30,
    });
    expect(s['nope.service']!.loadState).toBe('not-found');
    expect(isRunning(s['nope.service']!)).toBe(false);
    expect(s['sleeper.service']!.dropInPaths).toEqual(['/etc/systemd/system/sleeper.service.d/10-a.conf', '/etc/systemd/system/sleeper.service.d/20-b.conf']);
    expect(s['sleeper.service']!.needDaemonReload).toBe(true);
    expect(isEnabled(s['sleeper.service']!)).toBe(true);
    expect(s['sleeper.service']!.mainPid).toBe(112);
  });

  it('refuses output whose blocks do not match the units asked for', () => {
    expect(() => parseSystemctlShow(CAPTURED, ['a.service'])).toThrow('3 blocks for 1 units');
  });

  it('asks for every property in one call, names after --', () => {
    expect(showArgv(['a.service', 'b.service'])).toEqual(['systemctl', 'show', '-p', 'LoadState,ActiveState,SubState,UnitFileState,NeedDaemonReload,FragmentPath,DropInPaths,MainPID', '--', 'a.service', 'b.service']);
  });
});
