/**
 * The converged-plan memo (src/apply/memo.ts) through the CLI: a converged host plans from the
 * memo, and the memo is never believed when anything the plan read answers differently, even a
 * change that keeps a file's size and timestamps.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';

const UNIT = '[Unit]\nDescription=memo test\n\n[Service]\nExecStart=/bin/sleep infinity\n';
const SPEC = `host: nfs1
timezone: Asia/Shanghai
exports:
  - path: /data/share
    clients: [{host: 192.168.1.0/24, options: [ro, no_subtree_check]}]
mounts:
  - {path: /mnt/media, source: "192.168.1.140:/media", type: nfs, options: [nfsvers=4.2, _netdev], state: present}
units:
  - name: memo-test.service
    content: ${JSON.stringify(UNIT)}
`;
const PLANTED = 'planted: this plan came from the memo';

let t: ReturnType<typeof tempRoot>;
let cache: string;
let spec: string;
const env = () => ({ XDG_CACHE_HOME: cache });
const plan = (...args: string[]) => runCli(['plan', spec, '--root', t.root, ...args], { env: env() });
const memoDir = () => path.join(cache, 'reconcile', 'plans');
const memoFiles = () => {
  try {
    return readdirSync(memoDir());
  } catch {
    return [];
  }
};

/** Marks the kept plan, so a plan printed from it can be told from one observed in full. */
type MemoEntry = { plan: { warnings: string[]; managed: Record<string, string> } };
function plant(mark: (entry: MemoEntry) => unknown = (entry) => entry.plan.warnings.push(PLANTED)) {
  const files = memoFiles();
  expect(files).toHaveLength(1);
  const file = path.join(memoDir(), files[0]!);
  const entry = JSON.parse(readFileSync(file, 'utf8'));
  mark(entry);
  writeFileSync(file, JSON.stringify(entry), { mode: 0o600 });
}

beforeEach(async () => {
  t = tempRoot('nfs-server');
  cache = mkdtempSync(path.join(tmpdir(), 'reconcile-memo-cache-'));
  spec = path.join(t.dir, 'host.yaml');
  writeFileSync(spec, SPEC);
  writeFileSync(path.join(t.root, 'etc/fstab'), '# /etc/fstab: hand-written lines survive\nUUID=1 / ext4 errors=remount-ro 0 1\n');
  const applied = await runCli(['apply', spec, '--root', t.root, '--yes'], { env: env() });
  expect(applied.exitCode, applied.stderr).toBe(0);
});
afterEach(() => {
  t.cleanup();
  rmSync(cache, { recursive: true, force: true });
});

describe('a converged plan from the memo', () => {
  it("is kept by apply's proof of convergence, and used by the next plan", async () => {
    expect(memoFiles()).toHaveLength(1);
    plant();
    const r = await plan();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(PLANTED);
  });

  it('prints what a full observation prints, in every format', async () => {
    for (const format of ['text', 'json', 'markdown']) {
      const fromMemo = await plan('--format', format);
      const full = await runCli(['plan', spec, '--root', t.root, '--format', format], { env: { ...env(), RECONCILE_NO_CACHE: '1' } });
      expect(fromMemo.exitCode).toBe(0);
      const stamp = (s: string) => s.replace(/"createdAt": "[^"]+"/, '"createdAt": "…"');
      expect(stamp(fromMemo.stdout)).toBe(stamp(full.stdout));
    }
  });

  // What a kept plan read, changed in each way the machine can change; none of them may be missed.
  const unit = () => path.join(t.root, 'etc/systemd/system/memo-test.service');
  const changes: [string, () => void, number][] = [
    [
      'a unit file edited to the same size with its timestamps put back',
      () => {
        const before = statSync(unit());
        writeFileSync(unit(), UNIT.replace('sleep', 'sleeq'));
        utimesSync(unit(), before.atime, before.mtime);
      },
      2,
    ],
    ['a hand-written fstab line edited (no change to plan, but the memo is not believed)', () => writeFileSync(path.join(t.root, 'etc/fstab'), readFileSync(path.join(t.root, 'etc/fstab'), 'utf8').replace('hand-written', 'hand-writteN')), 0],
    ['an export client widened', () => writeFileSync(path.join(t.root, 'etc/exports'), readFileSync(path.join(t.root, 'etc/exports'), 'utf8').replace('(ro,', '(rw,')), 2],
    ['the timezone file changed', () => writeFileSync(path.join(t.root, 'etc/timezone'), 'Etc/UTC\n'), 2],
  ];
  for (const [what, change, exit] of changes) {
    it(`is not believed after ${what}`, async () => {
      plant();
      change();
      const r = await plan();
      expect(r.exitCode, r.stdout + r.stderr).toBe(exit);
      expect(r.stdout).not.toContain(PLANTED);
    });
  }

  it('is replaced by the full plan once the host converged again', async () => {
    plant();
    writeFileSync(path.join(t.root, 'etc/fstab'), `${readFileSync(path.join(t.root, 'etc/fstab'), 'utf8')}# another comment\n`);
    expect((await plan()).stdout).not.toContain(PLANTED);
    // That full plan was kept: the next one is from the memo again.
    plant();
    expect((await plan()).stdout).toContain(PLANTED);
  });

  it('serves a converged apply too, under its lock, and not one whose host changed', async () => {
    // Apply records ownership from the plan's managed addresses: a kept plan that no longer lists
    // the unit makes an apply served from it drop the unit from state.json, which shows it was used.
    const stateFile = path.join(t.root, 'var/lib/reconcile/state.json');
    const owned = () => Object.keys(JSON.parse(readFileSync(stateFile, 'utf8')).owned);
    expect(owned()).toContain('units[memo-test.service]');
    plant((entry) => delete entry.plan.managed['units[memo-test.service]']);
    const same = await runCli(['apply', spec, '--root', t.root, '--yes'], { env: env() });
    expect(same.exitCode, same.stderr).toBe(0);
    expect(owned()).not.toContain('units[memo-test.service]');
    // Changed since: the kept plan (no change) is not believed; the host is observed and converged.
    plant((entry) => delete entry.plan.managed['units[memo-test.service]']);
    writeFileSync(path.join(t.root, 'etc/timezone'), 'Etc/UTC\n');
    const changed = await runCli(['apply', spec, '--root', t.root, '--yes'], { env: env() });
    expect(changed.exitCode, changed.stderr).toBe(0);
    expect(readFileSync(path.join(t.root, 'etc/timezone'), 'utf8')).toBe('Asia/Shanghai\n');
  });

  it('is turned off by RECONCILE_NO_CACHE', async () => {
    plant();
    const r = await runCli(['plan', spec, '--root', t.root], { env: { ...env(), RECONCILE_NO_CACHE: '1' } });
    expect(r.stdout).not.toContain(PLANTED);
  });
});

describe('a plan the memo does not keep', () => {
  // Each of these depends on something the trace of the Host does not hold.
  const cases: [string, string, Record<string, string>][] = [
    [
      'a secret (its value is not in the trace)',
      SPEC.replace('mounts:\n', 'mounts:\n  - {path: /mnt/c, source: //fs/c, type: cifs, options: [vers=3.0], state: present, credentials: {username: u, password: {env: MEMO_PW}}}\n'),
      { MEMO_PW: 'hunter2hunter2' },
    ],
    ['ignoreDrift (it depends on the date)', `${SPEC}ignoreDrift:\n  - {address: "timezone", until: "2099-01-01", reason: "memo test"}\n`, {}],
  ];
  for (const [what, text, vars] of cases) {
    it(`with ${what}`, async () => {
      rmSync(memoDir(), { recursive: true, force: true });
      writeFileSync(spec, text);
      const applied = await runCli(['apply', spec, '--root', t.root, '--yes'], { env: { ...env(), ...vars } });
      expect(applied.exitCode, applied.stderr).toBe(0);
      const r = await runCli(['plan', spec, '--root', t.root], { env: { ...env(), ...vars } });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(memoFiles()).toEqual([]);
    });
  }
});
