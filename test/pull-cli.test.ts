/**
 * `reconcile pull` from a local bare repository into a temporary --root: plan, apply at the ref,
 * fast-forward only, --allow-rewind.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli, REPO } from './helpers/cli.js';
import { tempRoot } from './helpers/root.js';

let t: ReturnType<typeof tempRoot>;
let bare: string;
let work: string;
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-C', cwd, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' }).trim();
const EXAMPLE = readFileSync(path.join(REPO, 'examples/nfs-server.yaml'), 'utf8');

beforeEach(() => {
  t = tempRoot();
  bare = path.join(t.dir, 'specs.git');
  work = path.join(t.dir, 'work');
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  mkdirSync(path.join(work, 'hosts'));
  writeFileSync(path.join(work, 'hosts/nfs1.yaml'), EXAMPLE);
  git(work, 'add', '.');
  git(work, 'commit', '-qm', 'nfs1');
  git(work, 'remote', 'add', 'origin', bare);
  git(work, 'push', '-q', 'origin', 'main');
});
afterEach(() => t.cleanup());

const pull = (...extra: string[]) => runCli(['pull', bare, '--root', t.root, '--host', 'nfs1', ...extra]);
const state = () => JSON.parse(readFileSync(path.join(t.root, 'var/lib/reconcile/pull-state.json'), 'utf8'));

describe('reconcile pull', () => {
  it('plans, then applies the spec at the ref and records the commit', async () => {
    const first = git(work, 'rev-parse', 'HEAD');
    const p = await pull('--format', 'json');
    expect(p.exitCode).toBe(2);
    const plan = JSON.parse(p.stdout);
    expect(plan.spec.git).toEqual({ commit: first, dirty: false, state: 'clean' });
    expect(readdirSync(path.join(t.root, 'var/lib/reconcile/pull'))).toHaveLength(1);

    const a = await pull('--apply');
    expect(a.stderr).toContain(`main at ${first.slice(0, 12)}: hosts/nfs1.yaml`);
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toContain('converged');
    expect(readFileSync(path.join(t.root, 'etc/timezone'), 'utf8')).toBe('Asia/Shanghai\n');
    expect(state()).toMatchObject({ commit: first, ref: 'main', path: 'hosts/nfs1.yaml' });
    // The journal of that apply carries the commit too.
    const [journal] = readdirSync(path.join(t.root, 'var/lib/reconcile/journal'));
    const start = JSON.parse(readFileSync(path.join(t.root, 'var/lib/reconcile/journal', journal!, 'journal.jsonl'), 'utf8').split('\n')[0]!);
    expect(start.spec.git).toEqual({ commit: first, dirty: false, state: 'clean' });

    // A fast-forward is taken.
    writeFileSync(path.join(work, 'hosts/nfs1.yaml'), EXAMPLE.replace('timezone: Asia/Shanghai', 'timezone: Europe/Berlin'));
    git(work, 'commit', '-qam', 'berlin');
    git(work, 'push', '-q', 'origin', 'main');
    const second = git(work, 'rev-parse', 'HEAD');
    const ff = await pull('--apply');
    expect(ff.exitCode).toBe(0);
    expect(readFileSync(path.join(t.root, 'etc/timezone'), 'utf8')).toBe('Europe/Berlin\n');
    expect(state().commit).toBe(second);
  });

  it('refuses a force-pushed rewound ref unless --allow-rewind', async () => {
    const first = git(work, 'rev-parse', 'HEAD');
    writeFileSync(path.join(work, 'hosts/nfs1.yaml'), EXAMPLE.replace('timezone: Asia/Shanghai', 'timezone: Europe/Berlin'));
    git(work, 'commit', '-qam', 'berlin');
    git(work, 'push', '-q', 'origin', 'main');
    const second = git(work, 'rev-parse', 'HEAD');
    expect((await pull('--apply')).exitCode).toBe(0);
    expect(state().commit).toBe(second);

    git(work, 'reset', '-q', '--hard', first);
    git(work, 'push', '-q', '--force', 'origin', 'main');
    const refused = await pull('--apply');
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr.trim().split('\n').pop()).toBe(
      `reconcile pull: refusing: main (${first.slice(0, 12)}) is not a fast-forward of the last applied commit ${second.slice(0, 12)} (applied ${state().appliedAt}); pass --allow-rewind to accept it`,
    );
    expect(readFileSync(path.join(t.root, 'etc/timezone'), 'utf8')).toBe('Europe/Berlin\n');
    expect(state().commit).toBe(second);

    const rewound = await pull('--apply', '--allow-rewind');
    expect(rewound.exitCode).toBe(0);
    expect(rewound.stderr).toContain('accepted with --allow-rewind');
    expect(readFileSync(path.join(t.root, 'etc/timezone'), 'utf8')).toBe('Asia/Shanghai\n');
    expect(state().commit).toBe(first);
  });

  it('says which spec paths it tried, and refuses an unknown ref', async () => {
    const none = await runCli(['pull', bare, '--root', t.root, '--host', 'db9.example.com']);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain('no spec for host "db9.example.com" in the repository (tried hosts/db9.example.com.yaml, hosts/db9.yaml');
    const ref = await pull('--ref', 'nope');
    expect(ref.exitCode).toBe(1);
    expect(ref.stderr.trim()).toMatch(/^reconcile pull: nope is not a branch, tag or commit of /);
    expect((await runCli(['pull'])).exitCode).toBe(1);
  });
});

/** An SSH key made by ssh-keygen, and its allowed-signers line. */
function sshKey(name: string, principal: string): { key: string; signer: string } {
  const key = path.join(t.dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', principal, '-f', key]);
  return { key, signer: `${principal} namespaces="git" ${readFileSync(`${key}.pub`, 'utf8').trim()}\n` };
}
const commitSigned = (key: string | null, message: string) =>
  key ? git(work, '-c', 'gpg.format=ssh', '-c', `user.signingkey=${key}`, 'commit', '-S', '-qam', message) : git(work, 'commit', '-qam', message);
const timezone = () => readFileSync(path.join(t.root, 'etc/timezone'), 'utf8');
const change = (zone: string) => writeFileSync(path.join(work, 'hosts/nfs1.yaml'), EXAMPLE.replace('timezone: Asia/Shanghai', `timezone: ${zone}`));

describe('reconcile pull --verify-signatures', () => {
  it('applies a commit signed by an allowed signer; refuses an unsigned one and one by another key, applying nothing', async () => {
    const trusted = sshKey('trusted', 'ops@example.invalid');
    const stranger = sshKey('stranger', 'ops@example.invalid');
    const signers = path.join(t.dir, 'allowed_signers');
    writeFileSync(signers, trusted.signer);
    const verified = (...extra: string[]) => pull('--apply', '--verify-signatures', '--allowed-signers', signers, ...extra);

    change('Europe/Berlin');
    commitSigned(trusted.key, 'signed');
    git(work, 'push', '-q', 'origin', 'main');
    const good = await verified('--verbose');
    expect(good.exitCode).toBe(0);
    expect(good.stderr).toContain('Good "git" signature for ops@example.invalid with ED25519 key');
    expect(timezone()).toBe('Europe/Berlin\n');
    const applied = state().commit;

    change('Europe/Paris');
    commitSigned(null, 'unsigned');
    git(work, 'push', '-q', 'origin', 'main');
    const unsigned = await verified();
    const head = git(work, 'rev-parse', 'HEAD');
    expect(unsigned.exitCode).toBe(1);
    expect(unsigned.stderr.trim()).toMatch(new RegExp(`^reconcile pull: refusing ${head.slice(0, 12)}: its signature does not verify against ${signers}: the commit carries no signature$`));
    expect(timezone()).toBe('Europe/Berlin\n');
    expect(state().commit).toBe(applied);

    change('Europe/Rome');
    commitSigned(stranger.key, 'signed by a stranger with the same principal');
    git(work, 'push', '-q', 'origin', 'main');
    const strange = await verified();
    expect(strange.exitCode).toBe(1);
    expect(strange.stderr).toContain('its signature does not verify');
    expect(timezone()).toBe('Europe/Berlin\n');
    // Without the flag the same commit would apply: the refusal is the signature's doing.
    expect((await pull('--apply')).exitCode).toBe(0);
    expect(timezone()).toBe('Europe/Rome\n');
  });

  it('never reads the allowed signers from the repository, and says when there are none', async () => {
    writeFileSync(path.join(work, 'allowed_signers'), sshKey('k', 'x@example.invalid').signer);
    git(work, 'add', 'allowed_signers');
    git(work, 'commit', '-qm', 'signers');
    git(work, 'push', '-q', 'origin', 'main');
    expect((await pull()).exitCode).toBe(2); // the cache now holds the repository's file
    const [cache] = readdirSync(path.join(t.root, 'var/lib/reconcile/pull'));
    const inRepo = await pull('--verify-signatures', '--allowed-signers', path.join(t.root, 'var/lib/reconcile/pull', cache!, 'allowed_signers'));
    expect(inRepo.exitCode).toBe(1);
    expect(inRepo.stderr).toContain('is inside the pull cache: the repository must not choose who may sign it');
    const none = await pull('--verify-signatures');
    expect(none.exitCode).toBe(1);
    expect(none.stderr.trim()).toBe(`reconcile pull: --verify-signatures: the allowed-signers file ${path.join(t.root, 'etc/reconcile/allowed_signers')} does not exist (reconcile pull REPO --install-timer --verify-signatures --allowed-signers FILE installs it)`);
  });
});

describe('reconcile pull --disable / --enable', () => {
  it('a disabled pull says why, exits 0 and applies nothing; --enable lets the next one apply', async () => {
    const d = await runCli(['pull', '--root', t.root, '--disable', 'incident 7: hands off']);
    expect(d.exitCode).toBe(0);
    expect(d.stdout).toBe('reconcile pull: disabled: incident 7: hands off\n');
    const p = await pull('--apply');
    expect(p.exitCode).toBe(0);
    expect(p.stdout).toMatch(/^reconcile pull: disabled: incident 7: hands off \(since \d{4}-\d\d-\d\dT[^)]+ by [^)]+\)\n$/);
    expect(readFileSync(path.join(t.root, 'etc/timezone'), 'utf8')).not.toBe('Asia/Shanghai\n');
    const j = await pull('--apply', '--format', 'json');
    expect(JSON.parse(j.stdout)).toMatchObject({ formatVersion: 1, result: 'disabled', reason: 'incident 7: hands off' });
    expect((await runCli(['pull', '--root', t.root, '--disable', ' '])).exitCode).toBe(1);
    expect((await runCli(['pull', bare, '--root', t.root, '--enable'])).exitCode).toBe(1);

    const e = await runCli(['pull', '--root', t.root, '--enable']);
    expect(e.stdout).toBe('reconcile pull: enabled (was disabled: incident 7: hands off)\n');
    // A reason with a line break stays one line where the timer's journal shows it.
    expect((await runCli(['pull', '--root', t.root, '--disable', 'a\nreconcile pull: converged'])).exitCode).toBe(0);
    expect((await pull('--apply')).stdout).toMatch(/^reconcile pull: disabled: a reconcile pull: converged \(since [^\n]+\)\n$/);
    expect((await runCli(['pull', '--root', t.root, '--enable'])).exitCode).toBe(0);
    expect((await pull('--apply')).exitCode).toBe(0);
    expect(timezone()).toBe('Asia/Shanghai\n');
  });
});

describe('reconcile pull --install-timer (under --root)', () => {
  const unit = (name: string) => readFileSync(path.join(t.root, 'etc/systemd/system', name), 'utf8');

  it('writes and enables the service and timer through the units kind, secrets by file, signers copied; the repository spec leaves them be', async () => {
    const signers = path.join(t.dir, 'signers');
    writeFileSync(signers, sshKey('k', 'ops@example.invalid').signer);
    const hostile = 'p"a$s`s\\w\nord %h';
    const r = await runCli(['pull', bare, '--root', t.root, '--host', 'nfs1', '--install-timer', '--every', '15m', '--verify-signatures', '--allowed-signers', signers, '--env', 'REPL_PASSWORD', '--credential', 'redis=/etc/reconcile/redis.url'], { env: { REPL_PASSWORD: hostile } });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('write /etc/systemd/system/reconcile-pull.timer');
    const service = unit('reconcile-pull.service');
    expect(service).toContain(`ExecStart=${path.join(REPO, 'bin/reconcile')} pull ${bare} --apply --ref main --path "hosts/{hostname}.yaml" --every 15m --host nfs1 --verify-signatures --allowed-signers /etc/reconcile/allowed_signers\n`);
    expect(service).toContain('SuccessExitStatus=2\nTimeoutStartSec=4200s\nEnvironmentFile=/etc/reconcile/pull.env\nLoadCredential=redis:/etc/reconcile/redis.url\n');
    expect(service).not.toContain('ord');
    const timer = unit('reconcile-pull.timer');
    expect(timer).toContain('OnBootSec=900s\nOnUnitActiveSec=900s\nRandomizedDelaySec=300s\n');
    expect(timer).not.toContain('Persistent');
    expect(readdirSync(path.join(t.root, 'etc/systemd/system/timers.target.wants'))).toEqual(['reconcile-pull.timer']);
    const env = path.join(t.root, 'etc/reconcile/pull.env');
    expect(statSync(env).mode & 0o777).toBe(0o600);
    expect(readFileSync(env, 'utf8').split('\n')[1]).toBe('REPL_PASSWORD="p\\"a\\$s\\`s\\\\w');
    expect(readFileSync(path.join(t.root, 'etc/reconcile/allowed_signers'), 'utf8')).toBe(readFileSync(signers, 'utf8'));

    // Again: nothing to change. The repository's spec, applied by pull, does not remove them.
    const again = await runCli(['pull', bare, '--root', t.root, '--host', 'nfs1', '--install-timer', '--verify-signatures', '--env', 'REPL_PASSWORD', '--credential', 'redis=/etc/reconcile/redis.url'], { env: { REPL_PASSWORD: hostile } });
    expect(again.stdout).toBe('nfs1: reconcile-pull.timer is installed as asked, nothing to change\n');
    const applied = await pull('--apply');
    expect(applied.exitCode).toBe(0);
    expect(applied.stdout).not.toContain('reconcile-pull');
    expect(unit('reconcile-pull.timer')).toBe(timer);
    expect((await pull()).exitCode).toBe(0);

    // A daily timer is a calendar one, persistent.
    const daily = await runCli(['pull', bare, '--root', t.root, '--host', 'nfs1', '--install-timer', '--every', 'daily']);
    expect(daily.exitCode).toBe(0);
    expect(unit('reconcile-pull.timer')).toContain('OnCalendar=daily\nPersistent=true\nRandomizedDelaySec=28800s\n');
    // The run is told its interval, for its fleet status (stale after 2 × it + 5 min).
    expect(unit('reconcile-pull.service')).toContain(' --every daily ');
    expect(unit('reconcile-pull.service')).not.toContain('EnvironmentFile');
  });

  it('refuses bad input with one line each, installing nothing', async () => {
    const cases: [string[], string][] = [
      [['--every', '5'], '--every must be a duration'],
      [['--every', '15m; rm -rf /'], '--every must be a duration of at least 1s such as 15m or 1h, or hourly, daily or weekly, not "15m; rm -rf /"'],
      [['--every', '15m\nOnCalendar=minutely'], 'not "15m\\nOnCalendar=minutely"'],
      [['--every', '0'], '--every must be a duration'],
      [['--every', '-5m'], '--every needs a value'],
      [['--every=-5m'], '--every must be a duration of at least 1s such as 15m or 1h, or hourly, daily or weekly, not "-5m"'],
      [['--every', '99999999h'], '--every 99999999h is longer than a week (168h)'],
      [['--env', 'NOT-A-NAME'], '--env "NOT-A-NAME" is not an environment variable name'],
      [['--env', 'RECONCILE_UNSET_VAR'], 'RECONCILE_UNSET_VAR is not set in this environment'],
      [['--credential', 'x=relative'], 'must be ID=/absolute/path'],
      [['--credential', '../x=/etc/x'], 'must be ID=/absolute/path'],
      [['--verify-signatures'], 'needs --allowed-signers FILE'],
      [['--verify-signatures', '--allowed-signers', path.join(t.dir, 'nope')], 'cannot read the allowed signers (ENOENT)'],
      [['--verify-signatures', '--allowed-signers', path.join(REPO, 'package.json')], 'no allowed-signers line in it'],
    ];
    for (const [extra, message] of cases) {
      const r = await runCli(['pull', bare, '--root', t.root, '--host', 'nfs1', '--install-timer', ...extra]);
      expect(r.exitCode, extra.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(message);
    }
    expect(readdirSync(t.root)).not.toContain('etc/systemd');
    expect(existsSync(path.join(t.root, 'etc/systemd/system/reconcile-pull.service'))).toBe(false);
  });

  it('a spec may not manage reconcile\'s own pull unit: a validate error at the name', async () => {
    const spec = path.join(t.dir, 'own.yaml');
    writeFileSync(spec, 'host: nfs1\nunits:\n  - name: snapd.service\n    enabled: false\n  - name: reconcile-pull.timer\n    enabled: false\n');
    const v = await runCli(['validate', spec]);
    expect(v.exitCode).toBe(1);
    expect(v.stderr).toBe(`${spec}:5:11: units[reconcile-pull.timer]: reconcile's own pull unit is installed on the host by \`reconcile pull REPO --install-timer\`, never by a spec: the repository must not change how the host pulls it\n`);
    writeFileSync(spec, 'host: nfs1\nunits:\n  - name: x.timer\n    content: "[Timer]\\nOnCalendar=daily\\n[Install]\\nAlias=reconcile-pull.timer\\nWantedBy=timers.target\\n"\n    enabled: true\n');
    const alias = await runCli(['validate', spec]);
    expect(alias.exitCode).toBe(1);
    expect(alias.stderr).toContain(`${spec}:4:14: units[x.timer]: Alias=reconcile-pull.timer would replace reconcile's own pull unit`);
  });
});
