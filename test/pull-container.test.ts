/**
 * The host's own loop on a real systemd (a booted container, test/helpers/container.ts): `reconcile
 * pull --install-timer` run inside, the service started by systemd as its timer would, the host
 * converging to the repository's spec, and an unsigned and a rewound commit refused, reported in
 * the unit's journal, not applied. One boot for every case; git and ssh-keygen are this machine's,
 * bound in (the minimal tree has neither).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Container, CONTAINER_NEEDS, PROJECT } from './helpers/container.js';
import { describeNeeding, missing } from './helpers/prereq.js';
import { PROGRESS_LINE } from './helpers/cli.js';

const usable = missing(CONTAINER_NEEDS).length === 0;
let c: Container;

const WORK = '/srv/work';
const BARE = '/srv/specs.git';
const SECRET = 'p"a$s`s\\w\nord %h';

beforeAll(async () => {
  if (!usable) return;
  c = await Container.boot({ name: `rp${process.pid % 100000}`, bindRo: ['/usr/bin/git', '/usr/lib/git-core', '/usr/share/git-core', '/usr/bin/ssh-keygen'] });
  // Installed as the README says: reconcile on PATH.
  await c.sh(['ln', '-s', `${PROJECT}/bin/reconcile`, '/usr/local/bin/reconcile']);
  await c.sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'ops', '-f', '/root/trusted']);
  const pub = (await c.sh(['cat', '/root/trusted.pub'])).trim();
  c.writeFile('/root/allowed_signers', `ops@example.invalid namespaces="git" ${pub}\n`);
  await git('init', '-q', '-b', 'main', WORK);
  c.writeFile(`${WORK}/README`, 'the fleet\n');
  await git('-C', WORK, 'add', '.');
  await commit(true, 'start');
  await c.sh(['git', 'init', '-q', '--bare', '-b', 'main', BARE]);
  await git('-C', WORK, 'remote', 'add', 'origin', BARE);
}, 300_000);
afterAll(async () => {
  await c?.shutdown();
}, 60_000);

function git(...args: string[]) {
  return c.sh(['git', '-c', 'user.name=ops', '-c', 'user.email=ops@example.invalid', ...args]);
}
function commit(signed: boolean, message: string) {
  return signed ? git('-C', WORK, '-c', 'gpg.format=ssh', '-c', 'user.signingkey=/root/trusted', 'commit', '-S', '-qam', message) : git('-C', WORK, 'commit', '-qam', message);
}
const service = (name: string, exec: string) => `  - name: ${name}
    content: |
      [Unit]
      Description=reconcile pull test
      [Service]
      ExecStart=${exec}
      [Install]
      WantedBy=multi-user.target
    enabled: true
    state: running
`;
async function publish(units: string, signed: boolean, message: string) {
  c.writeFile(`${WORK}/hosts/${c.name}.yaml`, `host: ${c.name}\nunits:\n${units}`);
  await git('-C', WORK, 'add', '.');
  await commit(signed, message);
  await git('-C', WORK, 'push', '-q', '--force', 'origin', 'main');
  return git('-C', WORK, 'rev-parse', 'HEAD');
}
/** What systemd does when the timer fires: start the oneshot and wait for it. */
async function runPullService() {
  const since = (await c.sh(['date', '+%s'])).trim();
  const started = await c.exec(['systemctl', 'start', 'reconcile-pull.service'], { timeoutMs: 180_000 });
  const show = await c.sh(['systemctl', 'show', '-p', 'Result', '-p', 'ExecMainStatus', 'reconcile-pull.service']);
  const journal = await c.sh(['journalctl', '-q', '-o', 'cat', '--no-pager', '-u', 'reconcile-pull.service', '--since', `@${since}`]);
  return { exitCode: started.exitCode, show, journal };
}
const active = async (unit: string) => (await c.exec(['systemctl', 'is-active', unit])).stdout.trim();

describeNeeding(CONTAINER_NEEDS, 'reconcile pull --install-timer on a real systemd (inside a container)', () => {
  it('installs and enables the service and timer; systemd accepts them and reads the secrets file as given', async () => {
    const r = await c.exec(['reconcile', 'pull', BARE, '--install-timer', '--every', '1h', '--verify-signatures', '--allowed-signers', '/root/allowed_signers', '--env', 'PULL_TEST_SECRET'], { env: { PULL_TEST_SECRET: SECRET } });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect((await c.exec(['systemctl', 'is-enabled', 'reconcile-pull.timer'])).stdout.trim()).toBe('enabled');
    expect(await active('reconcile-pull.timer')).toBe('active');
    expect(await c.sh(['systemctl', 'show', '-p', 'TimeoutStartUSec', '--value', 'reconcile-pull.service'])).toBe('1h 10min');
    const verify = await c.exec(['systemd-analyze', 'verify', '--man=no', '/etc/systemd/system/reconcile-pull.service', '/etc/systemd/system/reconcile-pull.timer']);
    expect(verify.stderr).toBe('');
    expect(verify.exitCode).toBe(0);
    expect(c.readFile('/etc/systemd/system/reconcile-pull.service')).not.toContain('ord');
    // systemd's own reading of the EnvironmentFile gives the value back byte for byte.
    const env = await c.exec(['systemd-run', '--wait', '--pipe', '--quiet', '-p', 'EnvironmentFile=/etc/reconcile/pull.env', '/usr/bin/printenv', 'PULL_TEST_SECRET']);
    expect(env.stdout).toBe(`${SECRET}\n`);
  }, 120_000);

  it('the service, started as the timer starts it, converges the host to the signed commit', async () => {
    const head = await publish(service('pulled.service', '/bin/sleep infinity'), true, 'pulled');
    const run = await runPullService();
    expect(run.journal).toContain(`main at ${head.slice(0, 12)}: hosts/${c.name}.yaml`);
    expect(run.exitCode).toBe(0);
    expect(run.show).toBe('Result=success\nExecMainStatus=0');
    expect(await active('pulled.service')).toBe('active');
    expect((await c.exec(['systemctl', 'is-enabled', 'pulled.service'])).stdout.trim()).toBe('enabled');
    // The repository's spec does not own the pull units: they stay as installed.
    expect(await active('reconcile-pull.timer')).toBe('active');
  }, 180_000);

  it('an unsigned commit is refused and reported in the journal; nothing of it is applied', async () => {
    const head = await publish(service('pulled.service', '/bin/sleep infinity') + service('unsigned.service', '/bin/sleep infinity'), false, 'unsigned');
    const run = await runPullService();
    expect(run.exitCode).not.toBe(0);
    expect(run.show).toBe('Result=exit-code\nExecMainStatus=1');
    expect(run.journal).toContain(`reconcile pull: refusing ${head.slice(0, 12)}: its signature does not verify against /etc/reconcile/allowed_signers: the commit carries no signature`);
    expect(c.readFile('/etc/systemd/system/unsigned.service')).toBeNull();
    expect(await active('pulled.service')).toBe('active');
  }, 180_000);

  it('a rewound commit, though signed, is refused and reported; nothing of it is applied', async () => {
    await git('-C', WORK, 'reset', '-q', '--hard', 'HEAD~2'); // back to "start", before the applied commit
    const head = await publish(service('rewound.service', '/bin/sleep infinity'), true, 'rewound');
    const run = await runPullService();
    expect(run.exitCode).not.toBe(0);
    expect(run.show).toBe('Result=exit-code\nExecMainStatus=1');
    expect(run.journal).toContain(`reconcile pull: refusing: main (${head.slice(0, 12)}) is not a fast-forward of the last applied commit`);
    expect(c.readFile('/etc/systemd/system/rewound.service')).toBeNull();
    expect(await active('pulled.service')).toBe('active');
  }, 180_000);

  it('pull --disable: the service succeeds, says why, and applies nothing', async () => {
    expect((await c.exec(['reconcile', 'pull', '--disable', 'maintenance window'])).exitCode).toBe(0);
    const run = await runPullService();
    expect(run.exitCode).toBe(0);
    expect(run.journal).toContain('reconcile pull: disabled: maintenance window');
    expect(c.readFile('/etc/systemd/system/rewound.service')).toBeNull();
    expect((await c.exec(['reconcile', 'pull', '--enable'])).exitCode).toBe(0);
  }, 180_000);

  it('the drift timer fragment runs on this host as written: applied, its service succeeds', async () => {
    const spec = `/etc/reconcile/${c.name}.yaml`;
    c.writeFile(spec, `host: ${c.name}\n`);
    const r = await c.exec(['reconcile', 'drift', spec, '--install-timer', '--every', '15m', '--print']);
    expect(r.exitCode).toBe(0);
    // One spec per host: the host's own units and the fragment's, as an include would merge them.
    c.writeFile(spec, `host: ${c.name}\nunits:\n${service('pulled.service', '/bin/sleep infinity')}${r.stdout.replace(/^#.*\n/gm, '').replace(/^units:\n/, '')}`);
    const a = await c.exec(['reconcile', 'apply', spec, '--yes']);
    // stderr is no terminal here: apply's step lines are there, and nothing else.
    expect(a.stderr.replace(PROGRESS_LINE, '')).toBe('');
    expect(a.stderr).toMatch(/^reconcile apply: \[\d+\/\d+\] done in .*: systemctl start reconcile-drift\.timer$/m);
    expect(a.exitCode).toBe(0);
    expect(await active('reconcile-drift.timer')).toBe('active');
    const verify = await c.exec(['systemd-analyze', 'verify', '--man=no', '/etc/systemd/system/reconcile-drift.service', '/etc/systemd/system/reconcile-drift.timer']);
    expect(verify.stderr).toBe('');
    expect(verify.exitCode).toBe(0);
    const started = await c.exec(['systemctl', 'start', 'reconcile-drift.service'], { timeoutMs: 120_000 });
    expect(started.exitCode).toBe(0);
    expect(await c.sh(['systemctl', 'show', '-p', 'Result', '--value', 'reconcile-drift.service'])).toBe('success');
  }, 180_000);
});
