/**
 * True diffs, saved plans read with `show`, the footer and apply's confirmation, through the built
 * CLI against temporary roots (issue 15).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';
import { runOnTty } from './helpers/pty.js';
import { describeNeeding } from './helpers/prereq.js';

let t: ReturnType<typeof tempRoot>;
beforeEach(() => {
  t = tempRoot();
});
afterEach(() => t.cleanup());

/** A root with a 3-line fstab (one line holds a password) and a spec that adds a fourth. */
function fstabRoot(dir: string) {
  const root = path.join(dir, 'fstab-root');
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  writeFileSync(path.join(root, 'etc/fstab'), '# static file system information\n/dev/vda1 / ext4 defaults 0 1\n//files/share /mnt/share cifs username=u,password=hunter2 0 0\n');
  const spec = path.join(dir, 'fstab.yaml');
  writeFileSync(spec, 'host: web1\nmounts:\n  - {path: /mnt/x, source: tmpfs, type: tmpfs, options: [size=1m], state: present}\n');
  return { root, spec };
}

describe('true diffs', () => {
  it('appending to a 3-line fstab is one hunk at the real lines, the 3 lines as context, passwords masked', async () => {
    const { root, spec } = fstabRoot(t.dir);
    const want = [
      '--- a/etc/fstab',
      '+++ b/etc/fstab',
      '@@ -1,3 +1,4 @@',
      ' # static file system information',
      ' /dev/vda1 / ext4 defaults 0 1',
      ' //files/share /mnt/share cifs username=u,password=*** 0 0',
      '+tmpfs\t/mnt/x\ttmpfs\tsize=1m\t0\t0',
    ].join('\n');
    const text = await runCli(['plan', spec, '--root', root]);
    expect(text.exitCode).toBe(2);
    expect(text.stdout).toContain(want.replace(/^/gm, '    '));
    const md = await runCli(['plan', spec, '--root', root, '--format', 'markdown']);
    expect(md.stdout).toContain(`\`\`\`diff\n${want}\n\`\`\``);
    const json = await runCli(['plan', spec, '--root', root, '--format', 'json']);
    const plan = JSON.parse(json.stdout);
    expect(plan.files).toEqual([{ path: '/etc/fstab', diff: `${want}\n`, lines: { 'mounts[/mnt/x]': { removed: [], added: [4] } } }]);
    for (const out of [text.stdout, md.stdout, json.stdout]) expect(out).not.toContain('hunter2');
    // What is written is the real line, and the password stays where it was.
    expect((await runCli(['apply', spec, '--root', root, '--yes'])).exitCode).toBe(0);
    expect(readFileSync(path.join(root, 'etc/fstab'), 'utf8')).toBe(
      '# static file system information\n/dev/vda1 / ext4 defaults 0 1\n//files/share /mnt/share cifs username=u,password=hunter2 0 0\ntmpfs\t/mnt/x\ttmpfs\tsize=1m\t0\t0\n',
    );
  });

  it('two exports changed in one file show one diff of that file, and each change names its lines', async () => {
    const p = await runCli(['plan', t.spec, '--root', t.root]);
    expect(p.stdout.match(/--- a\/etc\/exports/g)).toHaveLength(1);
    expect(p.stdout).toContain('  /etc/exports: removes line 7, adds line 7 (in its one diff below)');
    expect(p.stdout).toContain('  /etc/exports: adds line 8 (in its one diff below)');
    expect(p.stdout).toContain('/etc/exports: one write for exports[/data/share], exports[/srv/backup]');
    expect(p.stdout).toContain('    @@ -4,4 +4,5 @@\n');
    const md = await runCli(['plan', t.spec, '--root', t.root, '--format', 'markdown']);
    expect(md.stdout.match(/--- a\/etc\/exports/g)).toHaveLength(1);
  });
});

describe('the footer', () => {
  it('counts changes by action and names the worst risk, in text and Markdown', async () => {
    const footer = '1 to create, 3 to update, 0 to delete, 0 to run; worst risk: restart';
    expect((await runCli(['plan', t.spec, '--root', t.root])).stdout).toMatch(new RegExp(`\n${footer}\n$`));
    expect((await runCli(['plan', t.spec, '--root', t.root, '--format', 'markdown'])).stdout).toContain(`**${footer}**`);
  });
});

describe('show PLANFILE', () => {
  for (const format of ['text', 'json', 'markdown']) {
    it(`prints a saved plan byte for byte as plan printed it (${format})`, async () => {
      const file = path.join(t.dir, `web1-${format}.plan`);
      const planned = await runCli(['plan', t.spec, '--root', t.root, '--format', format, '--out', file]);
      expect(planned.exitCode).toBe(2);
      const shown = await runCli(['show', file, '--format', format]);
      expect(shown.stderr).toBe('');
      expect(shown.exitCode).toBe(2);
      expect(shown.stdout).toBe(planned.stdout);
      expect(shown.stdout.length).toBeGreaterThan(200);
    });
  }

  it('refuses a plan file whose file diffs or targets are not what plan writes, in one line', async () => {
    const file = path.join(t.dir, 'edited.plan');
    await runCli(['plan', t.spec, '--root', t.root, '--out', file]);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    for (const [name, edit] of [
      ['files not a list', (p: any) => (p.files = 'x')],
      ['a line number not a number', (p: any) => (p.files[0].lines['exports[/srv/backup]'].added = ['8'])],
      ['lines not a record', (p: any) => (p.files[0].lines = [1])],
      ['targets not strings', (p: any) => (p.targets = [1])],
    ] as const) {
      const copy = structuredClone(saved);
      edit(copy);
      writeFileSync(file, JSON.stringify(copy));
      const r = await runCli(['show', file]);
      expect(r.exitCode, name).toBe(1);
      expect(r.stderr, name).toBe(`${file}: not a reconcile plan file (save one with: reconcile plan SPEC --out ${file})\n`);
    }
  });

  it('plan given a saved plan points to show; show given a spec says it is not a plan', async () => {
    const file = path.join(t.dir, 'web1.plan');
    await runCli(['plan', t.spec, '--root', t.root, '--out', file]);
    const p = await runCli(['plan', file, '--root', t.root]);
    expect(p.exitCode).toBe(1);
    expect(p.stderr).toBe(`${file}: this is a saved plan, not a spec; print it with: reconcile show ${file} (or apply it with: reconcile apply ${file})\n`);
    const s = await runCli(['show', t.spec]);
    expect(s.exitCode).toBe(1);
    expect(s.stderr).toBe(`${t.spec}: not a saved plan (save one with: reconcile plan SPEC --out ${t.spec})\n`);
  });
});

describeNeeding({ commands: { python3: 'python3' } }, 'apply asks before it acts (on a terminal)', () => {
  it('a plan that restarts needs yes typed out: y is no, and nothing changes', async () => {
    const before = readFileSync(path.join(t.root, 'etc/exports'), 'utf8');
    const r = await runOnTty(['apply', t.spec, '--root', t.root], { prompt: 'type yes to go on: ', with: 'y' });
    expect(r.prompted).toBe(true);
    expect(r.output).toContain('Apply 4 changes to nfs1? The worst risk is restart: type yes to go on: ');
    expect(r.exitCode).toBe(1);
    expect(readFileSync(path.join(t.root, 'etc/exports'), 'utf8')).toBe(before);
    const yes = await runOnTty(['apply', t.spec, '--root', t.root], { prompt: 'type yes to go on: ', with: 'yes' });
    expect(yes.exitCode).toBe(0);
    expect(yes.output).toContain('nfs1: converged');
    expect(readFileSync(path.join(t.root, 'etc/exports'), 'utf8')).not.toBe(before);
  });

  it('below restart, y is enough', async () => {
    const { root, spec } = fstabRoot(t.dir);
    const r = await runOnTty(['apply', spec, '--root', root], { prompt: '[y/N] ', with: 'y' });
    expect(r.output).toContain('Apply 1 change to web1? [y/N] ');
    expect(r.exitCode).toBe(0);
    expect(readFileSync(path.join(root, 'etc/fstab'), 'utf8')).toContain('tmpfs\t/mnt/x\ttmpfs\tsize=1m\t0\t0\n');
  });
});
