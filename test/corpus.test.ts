/**
 * Real-world files nobody here wrote (fixtures/corpus/<format>/, origins in each README): reconcile
 * manages one entry beside what is in them and must keep every other byte, and converge.
 *   fstab, exports: plan and apply a spec adding one entry under a temp --root (the real planner
 *     and applier); the file minus the managed line is the original; a second `plan` exits 0.
 *   units: every Debian unit file passes the units kind's checks (systemd-analyze verify
 *     included), and a unit added beside all of them as vendor units leaves them untouched.
 *   pg_hba: the pure hba write functions (a live PostgreSQL per file is too heavy): lossless
 *     round trip, one added rule, idempotent.
 *   migrations: src/resources/migrations/parse.ts agrees with dbmate's own verdict per file.
 * A file that fails only because of a known defect class (being fixed elsewhere) is listed in
 * KNOWN_FAILURES and must still fail: when the fix lands, the test says to remove the entry.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applySpec } from '../src/apply/apply.js';
import { planSpec } from '../src/apply/planner.js';
import { applyRules, parseHba, renderHba, type HbaRule } from '../src/resources/postgres/hba.js';
import { parseMigration } from '../src/resources/migrations/parse.js';
import { loadAndValidate } from '../src/resources/validate.js';
import { REPO, runInProcess } from './helpers/cli.js';
import { assertHas } from './helpers/prereq.js';

const CORPUS = path.join(REPO, 'fixtures', 'corpus');
const filesOf = (format: string) =>
  readdirSync(path.join(CORPUS, format))
    .filter((f) => f !== 'README.md' && !f.endsWith('.json'))
    .sort();
const read = (format: string, file: string) => readFileSync(path.join(CORPUS, format, file), 'utf8');

/** `format/file` -> the known defect class it fails on (each is being fixed on its own branch). */
const KNOWN_FAILURES: Record<string, string> = {
  // Not one of the known classes: reconcile accepts an up-only file, dbmate refuses it
  // (ErrParseMissingDown). Listed so the divergence is explicit; the lead decides which is right.
  'migrations/dbmate-up-only.sql': 'divergence: an up-only migration is accepted, dbmate requires a down block',
};

const work = mkdtempSync(path.join(tmpdir(), 'reconcile-corpus-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs check; a file in KNOWN_FAILURES must make it throw (and the class is in the message). */
async function expectOutcome(key: string, check: () => Promise<void> | void): Promise<void> {
  const known = KNOWN_FAILURES[key];
  if (!known) return void (await check());
  let failed = false;
  try {
    await check();
  } catch {
    failed = true;
  }
  expect(failed, `${key} passes now: the fix for "${known}" landed; remove it from KNOWN_FAILURES`).toBe(true);
}

/** A fresh root with this file at hostPath, and a spec beside it. */
function bed(name: string, hostPath: string, bytes: string): { root: string; spec: string } {
  const dir = mkdtempSync(path.join(work, `${name.replace(/[^A-Za-z0-9.-]/g, '_')}-`));
  const root = path.join(dir, 'root');
  mkdirSync(path.join(root, path.dirname(hostPath)), { recursive: true });
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
  writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  writeFileSync(path.join(root, hostPath), bytes);
  return { root, spec: path.join(dir, 'host.yaml') };
}

/** Plan (changes pending), apply (converged), then `reconcile plan` in process: exit 0. */
async function planApplyInSync(spec: string, root: string): Promise<void> {
  const first = await planSpec(spec, { root });
  expect(first.plan.changes.length, 'the first plan has the one change').toBeGreaterThan(0);
  const report = await applySpec(spec, { root });
  expect(report.stoppedBecause ?? null).toBeNull();
  expect(report.ok).toBe(true);
  const again = await runInProcess(['plan', spec, '--root', root], 30_000);
  expect({ exit: again.exitCode, stderr: again.stderr }).toEqual({ exit: 0, stderr: '' });
}

/** The file with every line that contains `marker` removed. */
const withoutLinesOf = (text: string, marker: string) =>
  text
    .split(/(?<=\n)/)
    .filter((l) => !l.includes(marker))
    .join('');

/** The file's lines (with their newlines) but the one at index `skip`. */
const linesBut = (text: string, skip: number) => text.split(/(?<=\n)/).filter((_, i) => i !== skip);

/** The last entry line whose first field passes `take`: its index and fields (no escapes, no trailing slash). */
function lastEntry(text: string, take: (fields: string[]) => boolean): { index: number; fields: string[] } | undefined {
  const lines = text.split(/(?<=\n)/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.trim();
    if (!l || l.startsWith('#') || /\\/.test(l)) continue;
    const fields = l.split(/\s+/);
    if (take(fields)) return { index: i, fields };
  }
  return undefined;
}

describe('corpus: fstab', () => {
  const files = filesOf('fstab');
  it('has real files', () => expect(files.length).toBeGreaterThanOrEqual(4));
  for (const file of files) {
    it(`${file}: adds a mount, keeps every other byte, second plan in sync`, async () => {
      await expectOutcome(`fstab/${file}`, async () => {
        const original = read('fstab', file);
        const { root, spec } = bed(file, '/etc/fstab', original);
        writeFileSync(spec, 'host: corpus\nmounts:\n  - {path: /mnt/reconcile-corpus, source: tmpfs, type: tmpfs, options: [size=1m], state: present}\n');
        await planApplyInSync(spec, root);
        const after = readFileSync(path.join(root, 'etc/fstab'), 'utf8');
        expect(after).toContain('/mnt/reconcile-corpus');
        expect(withoutLinesOf(after, '/mnt/reconcile-corpus')).toBe(original);
      });
    });

    it(`${file}: takes over its last mount, keeps every other line byte for byte, second plan in sync`, async () => {
      await expectOutcome(`fstab/${file} (takeover)`, async () => {
        const original = read('fstab', file);
        const target = lastEntry(original, (f) => f.length >= 4 && /^\/[^ ]*[^/]$/.test(f[1]!) && f[2] !== 'swap');
        expect(target, 'a mount to take over').toBeDefined();
        const [source, mountPoint, type] = target!.fields;
        const { root, spec } = bed(file, '/etc/fstab', original);
        writeFileSync(spec, `host: corpus\nmounts:\n  - ${JSON.stringify({ path: mountPoint, source, type, options: ['noauto', 'nofail'], state: 'present' })}\n`);
        await planApplyInSync(spec, root);
        const after = readFileSync(path.join(root, 'etc/fstab'), 'utf8');
        expect(linesBut(after, target!.index)).toEqual(linesBut(original, target!.index));
        expect(after.split(/(?<=\n)/)[target!.index]).toMatch(/noauto,nofail/);
      });
    });
  }
});

describe('corpus: exports', () => {
  const files = filesOf('exports');
  it('has real files', () => expect(files.length).toBeGreaterThanOrEqual(2));
  for (const file of files) {
    it(`${file}: adds an export, keeps every other byte, second plan in sync`, async () => {
      await expectOutcome(`exports/${file}`, async () => {
        const original = read('exports', file);
        const { root, spec } = bed(file, '/etc/exports', original);
        writeFileSync(spec, 'host: corpus\nexports:\n  - path: /srv/reconcile-corpus\n    clients:\n      - {host: 192.0.2.10, options: [ro, sync, no_subtree_check]}\n');
        await planApplyInSync(spec, root);
        const after = readFileSync(path.join(root, 'etc/exports'), 'utf8');
        expect(after).toContain('/srv/reconcile-corpus');
        expect(withoutLinesOf(after, '/srv/reconcile-corpus')).toBe(original);
      });
    });

    it(`${file}: takes over its last export, keeps every other line byte for byte, second plan in sync`, async () => {
      await expectOutcome(`exports/${file} (takeover)`, async () => {
        const original = read('exports', file);
        const target = lastEntry(original, (f) => f.length >= 2 && /^\/./.test(f[0]!));
        if (!target) return; // a file of comments only: nothing to take over (the add test covers it)
        const { root, spec } = bed(file, '/etc/exports', original);
        writeFileSync(spec, `host: corpus\nexports:\n  - path: ${JSON.stringify(target.fields[0])}\n    clients:\n      - {host: 192.0.2.10, options: [ro, sync, no_subtree_check]}\n`);
        await planApplyInSync(spec, root);
        const after = readFileSync(path.join(root, 'etc/exports'), 'utf8');
        expect(linesBut(after, target.index)).toEqual(linesBut(original, target.index));
        expect(after.split(/(?<=\n)/)[target.index]).toContain('192.0.2.10(ro,sync,no_subtree_check)');
      });
    });
  }
});

describe('corpus: Debian unit files', () => {
  const files = filesOf('units');
  it('has real files', () => expect(files.length).toBeGreaterThanOrEqual(100));

  // One spec holding every unit: the kind's checks run systemd-analyze once for all of them. A
  // control unit systemd refuses proves that verify really ran (without it, every unit "passes").
  const CONTROL = 'reconcile-corpus-control.service';
  const findings = new Map<string, string[]>();
  const checked = (async () => {
    assertHas({ commands: { 'systemd-analyze': 'systemd' } });
    const spec = path.join(work, 'units.yaml');
    const indent = (text: string) => text.replace(/^(?=.)/gm, '      ');
    const units: [string, string][] = [...files.map((f): [string, string] => [f, read('units', f)]), [CONTROL, '[Service]\nType=no-such-type\nExecStart=/bin/true\n']];
    writeFileSync(spec, `host: corpus\nunits:\n${units.map(([name, text]) => `  - name: ${JSON.stringify(name)}\n    content: |\n${indent(text)}`).join('\n')}\n`);
    const { diagnostics } = await loadAndValidate(spec, { root: '/' });
    for (const d of diagnostics.filter((x) => x.severity === 'error')) {
      const name = /^units\[([^\]]+)\]/.exec(d.message)?.[1] ?? '(spec)';
      findings.set(name, [...(findings.get(name) ?? []), `${d.line}:${d.col}: ${d.message}`]);
    }
  })();

  it('the spec of all units is itself well formed (no finding outside a unit), and verify ran', async () => {
    await checked;
    expect(findings.get('(spec)') ?? []).toEqual([]);
    expect(findings.get(CONTROL)?.join('\n')).toMatch(/no-such-type/);
  }, 180_000);
  for (const file of files) {
    it(`${file}: accepted by the units kind's checks`, async () => {
      await checked;
      await expectOutcome(`units/${file}`, () => expect(findings.get(file) ?? []).toEqual([]));
    }, 180_000);
  }

  it('a unit added beside all of them (as vendor units) leaves every vendor file untouched; second plan in sync', async () => {
    const { root, spec } = bed('units-beside', '/etc/hostname', 'corpus\n');
    cpSync(path.join(CORPUS, 'units'), path.join(root, 'lib/systemd/system'), { recursive: true });
    rmSync(path.join(root, 'lib/systemd/system/README.md'), { force: true });
    writeFileSync(
      spec,
      'host: corpus\nunits:\n  - name: reconcile-corpus.service\n    content: |\n      [Unit]\n      Description=beside the corpus\n      [Service]\n      ExecStart=/bin/true\n      [Install]\n      WantedBy=multi-user.target\n    enabled: true\n',
    );
    await planApplyInSync(spec, root);
    for (const f of files) expect(readFileSync(path.join(root, 'lib/systemd/system', f), 'utf8'), f).toBe(read('units', f));
    expect(readFileSync(path.join(root, 'etc/systemd/system/reconcile-corpus.service'), 'utf8')).toContain('Description=beside the corpus');
  }, 180_000);
});

describe('corpus: pg_hba.conf', () => {
  const files = filesOf('pg_hba');
  it('has real files', () => expect(files.length).toBeGreaterThanOrEqual(3));
  const rule: HbaRule = { type: 'host', database: 'replication', user: 'reconcile_corpus', address: '192.0.2.7/32', method: 'scram-sha-256', options: '' };
  for (const file of files) {
    it(`${file}: round trip, one rule added, every other byte kept, idempotent`, async () => {
      await expectOutcome(`pg_hba/${file}`, () => {
        const original = read('pg_hba', file);
        const lines = parseHba(original);
        expect(renderHba(lines)).toBe(original);
        const after = renderHba(applyRules(lines, [rule]));
        expect(after).toContain('reconcile_corpus');
        expect(withoutLinesOf(after, 'reconcile_corpus')).toBe(original);
        expect(renderHba(applyRules(parseHba(after), [rule]))).toBe(after);
      });
    });
  }
});

describe('corpus: migrations (dbmate parser test cases)', () => {
  const files = filesOf('migrations');
  const verdicts = JSON.parse(read('migrations', 'dbmate-verdicts.json')) as Record<string, 'accepts' | 'refuses'>;
  it('has a dbmate verdict for every file', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
    expect(Object.keys(verdicts).sort()).toEqual(files);
  });
  for (const file of files) {
    it(`${file}: dbmate ${verdicts[file]} it, and so does parse.ts`, async () => {
      await expectOutcome(`migrations/${file}`, () => {
        const { problems } = parseMigration(read('migrations', file));
        if (verdicts[file] === 'accepts') expect(problems).toEqual([]);
        else expect(problems.length).toBeGreaterThan(0);
      });
    });
  }
});
