/**
 * `reconcile apply` rewrites /etc/exports (and /etc/timezone) under a temporary --root: the
 * files' extended attributes and POSIX ACL survive the atomic rename (issue 12), and when they
 * cannot be copied the apply still writes and says so in the step's output.
 */
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';
import { itNeeding } from './helpers/prereq.js';

const needs = { root: 'ACLs naming other users', commands: { getfattr: 'attr', setfattr: 'attr', getfacl: 'acl', setfacl: 'acl', cp: 'coreutils' } };
const attrs = (file: string) => execFileSync('getfattr', ['-d', '-m', '-', '--absolute-names', '--', file], { encoding: 'utf8' }).split('\n').slice(1).join('\n');
const acl = (file: string) => execFileSync('getfacl', ['-p', '--omit-header', '--', file], { encoding: 'utf8' });

let t: ReturnType<typeof tempRoot>;
beforeEach(() => {
  t = tempRoot();
});
afterEach(() => t.cleanup());

describe('apply keeps extended attributes of the files it rewrites', () => {
  itNeeding(needs, 'exports and timezone keep user.* and the ACL; the bytes are the new ones', async () => {
    const exportsFile = path.join(t.root, 'etc/exports');
    const timezone = path.join(t.root, 'etc/timezone');
    for (const f of [exportsFile, timezone]) {
      execFileSync('setfattr', ['-n', 'user.label', '-v', 'kept by admin', '--', f]);
      execFileSync('setfacl', ['-m', 'u:nobody:r', '--', f]);
    }
    const before = [exportsFile, timezone].map((f) => ({ attrs: attrs(f), acl: acl(f), mode: statSync(f).mode }));
    expect(before[0]!.attrs).toContain('user.label="kept by admin"');
    expect(before[0]!.attrs).toContain('system.posix_acl_access');

    const a = await runCli(['apply', t.spec, '--root', t.root, '--yes']);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    expect(a.stdout).not.toContain('not kept');

    expect(readFileSync(exportsFile, 'utf8')).toContain('/srv/backup backup.example.internal(rw,sync,no_subtree_check,root_squash)\n');
    expect(readFileSync(timezone, 'utf8')).toBe('Asia/Shanghai\n');
    [exportsFile, timezone].forEach((f, i) => {
      expect(attrs(f)).toBe(before[i]!.attrs);
      expect(acl(f)).toBe(before[i]!.acl);
      expect(acl(f)).toContain('user:nobody:r--');
      expect(statSync(f).mode).toBe(before[i]!.mode);
    });
    expect((await runCli(['plan', t.spec, '--root', t.root])).exitCode).toBe(0);
  });

  itNeeding(needs, 'without getfattr and cp the files are still written, and the output says the attributes were lost', async () => {
    const exportsFile = path.join(t.root, 'etc/exports');
    execFileSync('setfattr', ['-n', 'user.label', '-v', 'x', '--', exportsFile]);
    const a = await runCli(['apply', t.spec, '--root', t.root, '--yes'], { env: { PATH: path.join(t.dir, 'empty-bin') } });
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toContain('extended attributes (ACL, SELinux label, user.*) of /etc/exports not kept: cp could not run');
    expect(readFileSync(exportsFile, 'utf8')).toContain('/srv/backup backup.example.internal(');
  });
});
