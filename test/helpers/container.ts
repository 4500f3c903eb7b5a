/**
 * A real systemd host for tests: a minimal Debian tree (debootstrap, built once and cached),
 * booted as a throw-away overlay with systemd-nspawn. Commands run inside with `nsenter -a` into
 * the container's PID 1. See DESIGN.md §7.
 *
 * Never run `systemctl -M NAME enable|disable|mask` from the host: on this machine they act on
 * the host. Everything that changes the container runs inside it through exec().
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PROGRESS_LINE, REPO } from './cli.js';
import type { Needs } from './prereq.js';

export const CACHE_DIR = '/var/cache/reconcile-test';
export const TREE = path.join(CACHE_DIR, 'bookworm');
/** Where the built project is bound, read-only, inside the container. */
export const PROJECT = '/opt/reconcile';
const PATH_INSIDE = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** What the container needs here (its packages, systemd-container and debootstrap, it installs itself). */
export const CONTAINER_NEEDS: Needs = { root: 'systemd-nspawn, overlay mounts' };

/** apt-get install what is missing (as .ci/run does). */
function ensurePackages(): void {
  const missing = ['systemd-container', 'debootstrap'].filter((p) => spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' }).stdout.includes('install ok installed') === false);
  if (!missing.length) return;
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** The Debian mirror this machine's apt uses (deb822 URIs: or one-line deb ...). */
export function debianMirror(): string {
  const dir = '/etc/apt/sources.list.d';
  const texts = [...(existsSync(dir) ? readdirSync(dir).map((f) => readFileSync(path.join(dir, f), 'utf8')) : []), existsSync('/etc/apt/sources.list') ? readFileSync('/etc/apt/sources.list', 'utf8') : ''];
  for (const t of texts) {
    for (const m of t.matchAll(/^URIs:\s*(\S+)/gm)) if (!m[1]!.includes('security')) return m[1]!;
    for (const m of t.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\b/gm)) if (!m[1]!.includes('security')) return m[1]!;
  }
  return 'http://deb.debian.org/debian';
}

/**
 * The cached bookworm tree, built on first use (about a minute): debootstrap into a temp
 * directory next to the cache, then rename, so a half-built tree is never reused.
 */
export function ensureTree(): string {
  if (existsSync(path.join(TREE, 'lib/systemd/systemd'))) return TREE;
  ensurePackages();
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = mkdtempSync(path.join(CACHE_DIR, '.bookworm-'));
  const r = spawnSync('debootstrap', ['--variant=minbase', '--include=systemd,systemd-sysv,dbus', 'bookworm', tmp, debianMirror()], { encoding: 'utf8', timeout: 15 * 60_000 });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`debootstrap failed (mirror ${debianMirror()}): ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-5).join('\n')}`);
  }
  try {
    renameSync(tmp, TREE);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true }); // another process won the race: use its tree
    if (!existsSync(TREE)) throw e;
  }
  return TREE;
}

const live = new Set<Container>();
process.on('exit', () => {
  for (const c of live) c.killNow();
});

export class Container {
  private constructor(
    readonly name: string,
    private readonly dir: string,
    private readonly merged: string,
    private readonly nspawn: ChildProcess,
    readonly pid: number,
    private readonly log: string,
  ) {}

  /**
   * Boots a fresh copy of the cached tree; the hostname inside is `name`. `bindProject: false`
   * boots a host with neither this machine's node nor the project (a package must bring its own).
   * `bindRo`: more paths of this machine bound read-only at the same place (programs the minimal
   * tree lacks, e.g. git).
   */
  static async boot(options: { name?: string; bootTimeoutMs?: number; bindProject?: boolean; bindRo?: string[] } = {}): Promise<Container> {
    const tree = ensureTree();
    const name = options.name ?? `rt${process.pid}x${Math.floor(Math.random() * 1e6)}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-ct-'));
    const [upper, work, merged] = ['upper', 'work', 'merged'].map((d) => path.join(dir, d));
    for (const d of [upper, work, merged]) mkdirSync(d!);
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${tree},upperdir=${upper},workdir=${work}`, merged!]);
    // debootstrap copied this machine's /etc/hostname; the spec's host: must be the container's.
    writeFileSync(path.join(merged!, 'etc/hostname'), `${name}\n`);
    const log = path.join(dir, 'nspawn.log');
    const out = openSync(log, 'a'); // nspawn's console output, shown when boot fails
    const nspawn = spawn(
      'systemd-nspawn',
      [
        '-b', '-D', merged!, '-M', name, '--register=no', '--keep-unit', '--console=passive', '--timezone=off', '--private-network',
        ...(options.bindProject === false ? [] : ['--bind-ro=/usr/bin/node', `--bind-ro=${REPO}:${PROJECT}`]),
        ...(options.bindRo ?? []).map((p) => `--bind-ro=${p}`),
      ],
      { stdio: ['ignore', out, out] },
    );
    const cleanup = () => {
      if (nspawn.exitCode === null) nspawn.kill('SIGKILL');
      spawnSync('umount', ['-l', merged!]);
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      const pid = await waitForInit(nspawn, options.bootTimeoutMs ?? 60_000, log);
      const c = new Container(name, dir, merged!, nspawn, pid, log);
      live.add(c);
      await c.waitRunning(options.bootTimeoutMs ?? 60_000);
      return c;
    } catch (e) {
      cleanup();
      throw e;
    }
  }

  /** Runs argv inside the container (all its namespaces), with a clean environment. */
  exec(argv: string[], options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    const env = Object.entries({ PATH: PATH_INSIDE, LANG: 'C.UTF-8', NO_COLOR: '1', ...options.env }).map(([k, v]) => `${k}=${v}`);
    return new Promise((resolve) => {
      const child = spawn('nsenter', ['-t', String(this.pid), '-a', 'env', '-i', ...env, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ exitCode: code ?? (signal ? 128 : 1), stdout, stderr });
      });
      child.stdin.on('error', () => {}); // EPIPE when the command exits without reading its input
      child.stdin.end(options.input ?? '');
    });
  }

  /** exec() that throws unless the command exits 0; its stdout, trimmed. */
  async sh(argv: string[]): Promise<string> {
    const r = await this.exec(argv);
    if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} in ${this.name}: exit ${r.exitCode}\n${r.stderr}`);
    return r.stdout.trim();
  }

  /** `reconcile ARGS` inside the container, as an operator runs it there; apply's per-step progress lines (stderr is no terminal) are in `progress`, not `stderr`. */
  async reconcile(args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult & { progress: string }> {
    const r = await this.exec(['node', `${PROJECT}/bin/reconcile`, ...args], options);
    return { ...r, stderr: r.stderr.replace(PROGRESS_LINE, ''), progress: (r.stderr.match(PROGRESS_LINE) ?? []).join('') };
  }

  /** Writes a file into the container at an absolute path (through the overlay). */
  writeFile(inside: string, content: string, mode = 0o644): void {
    const real = path.join(this.merged, inside);
    mkdirSync(path.dirname(real), { recursive: true });
    writeFileSync(real, content, { mode });
  }

  /** Copies a file or a directory tree of this machine into the container, bytes and modes as they are. */
  copyIn(hostPath: string, inside: string): void {
    const real = path.join(this.merged, inside);
    mkdirSync(path.dirname(real), { recursive: true });
    cpSync(hostPath, real, { recursive: true, verbatimSymlinks: true });
  }

  /** Reads a file of the container (null when missing). */
  readFile(inside: string): string | null {
    try {
      return readFileSync(path.join(this.merged, inside), 'utf8');
    } catch {
      return null;
    }
  }

  private async waitRunning(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < until) {
      const r = await this.exec(['systemctl', 'is-system-running'], { timeoutMs: 10_000 });
      last = r.stdout.trim();
      if (last === 'running' || last === 'degraded') return;
      await sleep(100);
    }
    throw new Error(`container ${this.name} did not finish booting (is-system-running: ${last})\n${readFileSync(this.log, 'utf8').slice(-2000)}`);
  }

  /** Stops the container (SIGTERM to nspawn shuts it down in order), then removes the copy. */
  async shutdown(): Promise<void> {
    live.delete(this);
    if (this.nspawn.exitCode === null && this.nspawn.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.nspawn.once('exit', () => resolve()));
      this.nspawn.kill('SIGTERM');
      const timedOut = await Promise.race([exited.then(() => false), sleep(20_000).then(() => true)]);
      if (timedOut) {
        this.nspawn.kill('SIGKILL');
        await exited;
      }
    }
    spawnSync('umount', [this.merged]);
    if (spawnSync('mountpoint', ['-q', this.merged]).status === 0) spawnSync('umount', ['-l', this.merged]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** At process exit: no waiting possible, so kill and detach. */
  killNow(): void {
    if (this.nspawn.exitCode === null) this.nspawn.kill('SIGKILL');
    spawnSync('umount', ['-l', this.merged]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The container's PID 1 is nspawn's child; wait for it to appear. */
async function waitForInit(nspawn: ChildProcess, timeoutMs: number, log: string): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (nspawn.exitCode !== null) throw new Error(`systemd-nspawn exited (${nspawn.exitCode}):\n${readFileSync(log, 'utf8').slice(-2000)}`);
    const children = (() => {
      try {
        return readFileSync(`/proc/${nspawn.pid}/task/${nspawn.pid}/children`, 'utf8').trim();
      } catch {
        return '';
      }
    })();
    const pid = Number(children.split(/\s+/)[0]);
    if (pid > 0) {
      // The child execs systemd after setting up; wait until it is PID 1's binary.
      const comm = (() => {
        try {
          return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
        } catch {
          return '';
        }
      })();
      if (comm === 'systemd') return pid;
    }
    await sleep(50);
  }
  throw new Error(`systemd-nspawn started no container within ${timeoutMs} ms:\n${readFileSync(log, 'utf8').slice(-2000)}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
