import { describe, expect, it } from 'vitest';
import { parseVerifyOutput, splitVerifyOutput, unitDiagnostics } from './verify.js';
import { parseSpec } from '../../spec/load.js';

// Captured from systemd 252 `systemd-analyze verify --man=no --recursive-errors=no DIR/NAME`.
describe('parseVerifyOutput', () => {
  const dir = '/tmp/reconcile-verify-x';
  it('maps line findings to the unit file or its drop-ins; the summary lines are not repeated', () => {
    const out = `${dir}/a.service:5: Neither a valid executable name nor an absolute path: bin/sleep
a.service: Unit configuration has fatal error, unit will not be started.
Unit a.service has a bad unit file setting.
${dir}/a.service.d/10.conf:2: Unknown key 'Bogus' in section [Service], ignoring.
`;
    expect(parseVerifyOutput(out, 1, dir, 'a.service')).toEqual([
      { file: 'unit', line: 5, message: 'Neither a valid executable name nor an absolute path: bin/sleep', severity: 'error' },
      { file: '10.conf', line: 2, message: "Unknown key 'Bogus' in section [Service], ignoring.", severity: 'warning' },
    ]);
  });

  it('a missing program is a warning: it may exist on the host the spec is for', () => {
    const out = 'b.service: Command /opt/kafka/bin/x.sh is not executable: No such file or directory\n';
    expect(parseVerifyOutput(out, 1, dir, 'b.service')).toEqual([{ file: 'unit', line: null, message: 'Command /opt/kafka/bin/x.sh is not executable: No such file or directory', severity: 'warning' }]);
  });

  it('a unit that fails to load with no line finding reports the summary', () => {
    const out = 'Unit j.service failed to load properly, please adjust/correct and reload service manager: Bad message\n';
    expect(parseVerifyOutput(out, 1, dir, 'j.service')).toEqual([{ file: 'unit', line: null, message: 'Unit j.service failed to load properly, please adjust/correct and reload service manager: Bad message', severity: 'error' }]);
  });

  it('findings of sibling units are left to those units', () => {
    expect(parseVerifyOutput(`${dir}/other.service:3: Unknown section 'X'. Ignoring.\n`, 0, dir, 'a.service')).toEqual([]);
  });
});

describe('splitVerifyOutput', () => {
  const dir = '/tmp/reconcile-verify-y';
  it('gives each unit of one run its own findings and its own failure', () => {
    const out = `${dir}/a.service:5: Neither a valid executable name nor an absolute path: bin/sleep
a.service: Unit configuration has fatal error, unit will not be started.
${dir}/b.service:3: Unknown key 'Bogus' in section [Service], ignoring.
b.service: Command /opt/x is not executable: No such file or directory
${dir}/aa.service.d/10.conf:2: Unknown section 'X'. Ignoring.
`;
    const found = splitVerifyOutput(out, dir, ['a.service', 'b.service', 'aa.service', 'c.service']);
    expect(found.get('a.service')).toEqual([{ file: 'unit', line: 5, message: 'Neither a valid executable name nor an absolute path: bin/sleep', severity: 'error' }]);
    expect(found.get('b.service')!.map((f) => f.severity)).toEqual(['warning', 'warning']);
    expect(found.get('aa.service')).toEqual([{ file: '10.conf', line: 2, message: "Unknown section 'X'. Ignoring.", severity: 'warning' }]);
    expect(found.has('c.service')).toBe(false);
  });
});

describe('unitDiagnostics: Exec*= program names as systemd takes them', () => {
  const specWith = (exec: string) =>
    parseSpec(`host: h1\nunits:\n  - name: bare.service\n    content: |\n      [Service]\n      ExecStart=${exec}\n`, 'spec.yaml').spec;

  it('accepts a bare program name (systemd >= 239 searches its path), through systemd-analyze verify too', () => {
    expect(unitDiagnostics(specWith('sleep 10'))).toEqual([]);
    expect(unitDiagnostics(specWith('-systemctl --no-block start x.service'))).toEqual([]);
  });

  it('refuses a relative path, at the content key, as systemd does', () => {
    for (const program of ['bin/sleep', './sleep', '..']) {
      const d = unitDiagnostics(specWith(`${program} 1`));
      expect(d.map((x) => [x.line, x.severity, x.message])).toEqual([
        [4, 'error', `units[bare.service]: content line 2: ExecStart= must name its program by absolute path or a bare file name (systemd searches its path for it), not "${program}"`],
      ]);
    }
  });
});

describe('unitDiagnostics: systemd-analyze verdicts reused across hosts', () => {
  const spec = (file: string, service: string) =>
    parseSpec(`host: h1\nunits:\n  - name: cached-${process.pid}.service\n    content: |\n      [Service]\n      ExecStart=/bin/true\n${service}`, file).spec;

  it('gives each host with the same units the same findings, at its own file, and tells different contents apart', () => {
    const bogus = '      BogusKey=1\n';
    const first = unitDiagnostics(spec('a.yaml', bogus));
    expect(first.map((d) => [d.file, d.severity])).toEqual([['a.yaml', 'warning']]);
    expect(first[0]!.message).toMatch(/BogusKey/);
    expect(unitDiagnostics(spec('b.yaml', ''))).toEqual([]);
    const again = unitDiagnostics(spec('c.yaml', bogus));
    expect(again).toEqual(first.map((d) => ({ ...d, file: 'c.yaml' })));
    expect(unitDiagnostics(spec('d.yaml', '      AlsoBogus=2\n'))[0]!.message).toMatch(/AlsoBogus/);
  });
});
