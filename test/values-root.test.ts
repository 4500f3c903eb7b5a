/**
 * Hostile but holdable values through the CLI against a temporary --root: validate passes, plan
 * and apply write them, and the second plan is in sync (exit 0). What cannot be held is refused by
 * validate (fixtures/invalid-specs/*). The exports here reach the real exportfs parser in
 * test/exports-live.test.ts only through the encoding checked in src/resources/exports/values.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';
import { parseExports } from '../src/resources/exports/parse.js';

let t: ReturnType<typeof tempRoot>;
beforeEach(() => {
  t = tempRoot();
});
afterEach(() => t.cleanup());

const PATHS = ['/srv/with blank', '/srv/hash#mark', '/srv/quote"d', '/srv/back\\slash', "/srv/it's", '/srv/-dash', '/srv/oct\\040al'];

describe('hostile but holdable values under a temporary root', () => {
  it('exports with blanks, #, quotes, backslashes and octal-looking paths: applied, then in sync', async () => {
    const spec = path.join(t.dir, 'odd.yaml');
    const exports = PATHS.map((p) => `  - path: ${JSON.stringify(p)}\n    clients:\n      - {host: "10.0.0.1", options: [ro, sync, no_subtree_check]}\n      - {host: "*.example.com", options: ["sec=krb5:krb5i", ro]}\n`).join('');
    writeFileSync(spec, `host: nfs1\nexports:\n${exports}`);
    const v = await runCli(['validate', '--strict', spec]);
    expect(v.stderr).toBe('');
    expect(v.exitCode).toBe(0);
    expect((await runCli(['plan', spec, '--root', t.root])).exitCode).toBe(2);
    const a = await runCli(['apply', spec, '--root', t.root, '--yes']);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    const text = readFileSync(path.join(t.root, 'etc/exports'), 'utf8');
    // One line per export, each reading back as its path, and the hand-written lines kept.
    expect(text).toContain('\n/srv/scratch    10.0.0.0/24(rw,sync,no_subtree_check)\n');
    const entries = parseExports(text).filter((l) => l.entry).map((l) => l.entry!.path);
    for (const p of PATHS) expect(entries.filter((e) => e === p)).toHaveLength(1);
    const again = await runCli(['plan', spec, '--root', t.root]);
    expect(again.stdout).toContain('in sync');
    expect(again.exitCode).toBe(0);
  });
});
