/**
 * Nothing reconcile runs may hang forever. Three tools:
 * - runWithWatchdog: a step's command in its own process group with a deadline; on expiry the
 *   report says what every process of the group was doing in the kernel, then the group is ended.
 * - watchSelf: a watcher thread that ends this process when its own event loop stops turning.
 * - fileOpsInChild/statInChild: stat/mkdir that may block under a dead mount, in a child that is
 *   abandoned at the deadline (a thread of ours stuck in the kernel could never be taken back).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { childEnv } from '../spec/secrets.js';
import { commandLine, processTree, stateName, type ProcInfo } from './proc.js';
import { isFuse, isNetworkFs, mountsForArgv, readMountInfo, type MountRef } from './mounts.js';

// ---------------------------------------------------------------------------------------------
// Step watchdog
// ---------------------------------------------------------------------------------------------

export interface WatchdogOptions {
  timeoutMs: number;
  /** Between SIGTERM and SIGKILL. */
  graceMs?: number;
  /** What the step is doing, in words ("mount /srv/data"); defaults to the argv. */
  describe?: string;
  cwd?: string;
  env?: Record<string, string>;
  input?: string;
  /** Per stream; the rest is dropped (a runaway command must not fill our memory). */
  maxOutputBytes?: number;
}

export interface GroupProcess {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
  stateName: string;
  wchan: string | null;
  comm: string;
  cmdline: string;
}

export interface HangReport {
  describe: string;
  argv: string[];
  /** How long the step had run when the deadline hit. */
  runningMs: number;
  timeoutMs: number;
  graceMs: number;
  /** Every process of the step's group (and descendants that left it) at expiry. */
  processes: GroupProcess[];
  mounts: MountRef[];
  sigkillSent: boolean;
  /** Still there after SIGKILL: stuck in an uninterruptible kernel wait; abandoned. */
  survivors: GroupProcess[];
  /** Likely causes, one line each, most telling first. */
  explanation: string[];
}

export interface WatchdogResult {
  argv: string[];
  describe: string;
  pid: number | null;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  failedToStart: boolean;
  ok: boolean;
  /** Present exactly when timedOut. */
  hang: HangReport | null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function toGroupProcess(p: ProcInfo): GroupProcess {
  return {
    pid: p.pid,
    ppid: p.ppid,
    pgrp: p.pgrp,
    state: p.state,
    stateName: stateName(p.state),
    wchan: p.wchan,
    comm: p.comm,
    cmdline: commandLine(p),
  };
}

/** Zombies are dead already: only their parent's wait() is missing, and a signal cannot change that. */
const alive = (p: { state: string }): boolean => p.state !== 'Z' && p.state !== 'X';

function signalGroup(pgid: number, pids: readonly number[], signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is empty already.
  }
  // Descendants that called setsid/setpgid left the group but are still the step's work.
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone
    }
  }
}

/**
 * Runs argv (never through a shell) as the leader of a new process group. On expiry: snapshot of
 * the group (state, wchan, argv of each process) and the mounts its arguments name, SIGTERM to the
 * group, SIGKILL after `graceMs`, and a report. Resolves within about timeout + grace + 2 s even
 * when a process cannot be killed (it is then listed under survivors and abandoned).
 */
export function runWithWatchdog(argv: string[], options: WatchdogOptions): Promise<WatchdogResult> {
  if (argv.length === 0) throw new Error('runWithWatchdog: empty argv');
  const graceMs = options.graceMs ?? 5_000;
  const maxOut = options.maxOutputBytes ?? 1 << 20;
  const describe = options.describe ?? argv.join(' ');
  const started = performance.now();

  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(argv[0]!, argv.slice(1), {
        // setsid(): the child leads a new group whose id is its pid, so -pid reaches all of it.
        detached: true,
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        cwd: options.cwd,
        env: childEnv(options.env),
        shell: false,
      });
    } catch (e) {
      resolve(startFailure(argv, describe, started, e));
      return;
    }
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[], n: { stdout: 0, stderr: 0 } };
    const collect = (name: 'stdout' | 'stderr') => (b: Buffer) => {
      if (out.n[name] >= maxOut) return;
      out[name].push(b.subarray(0, maxOut - out.n[name]));
      out.n[name] += b.length;
    };
    child.stdout!.on('data', collect('stdout'));
    child.stderr!.on('data', collect('stderr'));
    if (options.input !== undefined) {
      child.stdin!.on('error', () => {}); // EPIPE when the command does not read its input
      child.stdin!.end(options.input);
    }

    let exit: { code: number | null; signal: string | null } | null = null;
    let hang: HangReport | null = null;
    let settled = false;
    // Once the deadline hit, only the expiry path may resolve: it must finish its report first.
    let expiring = false;
    const exited = new Promise<void>((r) => child.once('exit', (code, signal) => ((exit = { code, signal }), r())));

    const finish = (failedToStart = false, err?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A grandchild may still hold our pipes open: take what arrived and let go.
      child.stdout!.destroy();
      child.stderr!.destroy();
      child.unref();
      const e = exit as { code: number | null; signal: string | null } | null;
      resolve({
        argv: [...argv],
        describe,
        pid: child.pid ?? null,
        exitCode: e?.code ?? null,
        signal: e?.signal ?? null,
        stdout: Buffer.concat(out.stdout).toString('utf8'),
        stderr: failedToStart ? String((err as Error)?.message ?? err) : Buffer.concat(out.stderr).toString('utf8'),
        durationMs: Math.round(performance.now() - started),
        timedOut: hang !== null,
        failedToStart,
        ok: !failedToStart && hang === null && e?.code === 0,
        hang,
      });
    };

    child.once('error', (err) => {
      if (child.pid === undefined) finish(true, err);
    });
    child.once('close', () => expiring || finish());
    // 'close' waits for the pipes, which a background grandchild may keep open forever.
    void exited.then(() => setTimeout(() => expiring || finish(), 200).unref());

    const timer = setTimeout(() => {
      void onExpiry();
    }, options.timeoutMs);

    const onExpiry = async (): Promise<void> => {
      if (exit !== null || child.pid === undefined) return;
      expiring = true;
      const pgid = child.pid;
      const runningMs = Math.round(performance.now() - started);
      // The snapshot comes first: after the signals the evidence is gone.
      const [procs, mounts] = await Promise.all([processTree(pgid), readMountInfo().catch(() => [])]);
      const processes = procs.map(toGroupProcess);
      const involved = new Map<string, MountRef>();
      for (const args of [argv, ...procs.map((p) => p.cmdline)]) {
        for (const m of mountsForArgv(args, mounts, options.cwd ?? '/')) if (!involved.has(m.mountPoint)) involved.set(m.mountPoint, m);
      }
      const others = processes.filter((p) => p.pgrp !== pgid).map((p) => p.pid);
      signalGroup(pgid, others, 'SIGTERM');

      const stillThere = async (): Promise<GroupProcess[]> => (await processTree(pgid)).map(toGroupProcess).filter(alive);
      const deadline = performance.now() + graceMs;
      let left = await stillThere();
      while (left.length > 0 && performance.now() < deadline) {
        await sleep(Math.min(100, Math.max(1, deadline - performance.now())));
        left = await stillThere();
      }
      let sigkillSent = false;
      if (left.length > 0) {
        sigkillSent = true;
        signalGroup(pgid, [...new Set([...others, ...left.map((p) => p.pid)])], 'SIGKILL');
        // SIGKILL is acted on when the task leaves its kernel wait; give it a moment, not forever.
        const settle = performance.now() + 2_000;
        left = await stillThere();
        while (left.length > 0 && performance.now() < settle) {
          await sleep(50);
          left = await stillThere();
        }
      }
      hang = {
        describe,
        argv: [...argv],
        runningMs,
        timeoutMs: options.timeoutMs,
        graceMs,
        processes,
        mounts: [...involved.values()],
        sigkillSent,
        survivors: left,
        explanation: explainHang(processes, [...involved.values()]),
      };
      if (exit === null) await Promise.race([exited, sleep(left.length > 0 ? 0 : 500)]);
      finish();
    };
  });
}

function startFailure(argv: string[], describe: string, started: number, e: unknown): WatchdogResult {
  return {
    argv: [...argv],
    describe,
    pid: null,
    exitCode: null,
    signal: null,
    stdout: '',
    stderr: String((e as Error)?.message ?? e),
    durationMs: Math.round(performance.now() - started),
    timedOut: false,
    failedToStart: true,
    ok: false,
    hang: null,
  };
}

export type WaitKind = 'nfs' | 'fuse' | 'cifs' | 'disk' | 'timer' | 'pipe' | 'child' | 'poll' | 'socket' | 'lock' | 'other';

/** What a kernel wait channel means, roughly: enough to point at the layer that does not answer. */
export function classifyWchan(wchan: string | null): WaitKind | null {
  if (wchan === null) return null;
  const w = wchan.toLowerCase();
  if (/nfs|rpc_|__rpc|xprt|xs_/.test(w)) return 'nfs';
  if (/fuse|request_wait_answer/.test(w)) return 'fuse';
  if (/cifs|smb/.test(w)) return 'cifs';
  if (/io_schedule|blk_|wait_on_page|folio_wait|bit_wait_io|jbd2|lock_page|wait_on_buffer|submit_bio/.test(w)) return 'disk';
  if (/nanosleep|hrtimer|schedule_timeout/.test(w)) return 'timer';
  if (/pipe_/.test(w)) return 'pipe';
  if (/do_wait|kernel_wait/.test(w)) return 'child';
  if (/select|poll|ep_poll/.test(w)) return 'poll';
  if (/unix_|inet_|tcp_|sk_wait|sock/.test(w)) return 'socket';
  if (/futex|mutex|rwsem|lock/.test(w)) return 'lock';
  return 'other';
}

const WAIT_WORDS: Record<WaitKind, string> = {
  nfs: 'waiting for an NFS/RPC server to answer',
  fuse: 'waiting for a FUSE daemon to answer',
  cifs: 'waiting for an SMB/CIFS server to answer',
  disk: 'waiting for block IO (a slow or failing disk)',
  timer: 'sleeping on a timer (the command waits by itself)',
  pipe: 'waiting on a pipe',
  child: 'waiting for a child process',
  poll: 'waiting for IO events (network or terminal)',
  socket: 'waiting on a socket',
  lock: 'waiting for a lock',
  other: 'waiting in the kernel',
};

/** Pure: why the group likely hung, from its processes' states and wait channels and the mounts it named. */
export function explainHang(processes: readonly GroupProcess[], mounts: readonly MountRef[]): string[] {
  const lines: string[] = [];
  const live = processes.filter(alive);
  const kinds = new Set<WaitKind>();
  const dState = live.filter((p) => p.state === 'D');
  if (dState.length > 0) {
    lines.push(
      `${dState.length} process(es) in D state (uninterruptible kernel wait): ${dState.map((p) => `${p.comm}[${p.pid}] at ${p.wchan ?? '?'}`).join(', ')}; typical of a network filesystem whose server does not answer`,
    );
  }
  for (const p of live) {
    const k = classifyWchan(p.wchan);
    if (k) kinds.add(k);
  }
  for (const m of mounts) {
    if (m.fstype.startsWith('nfs')) {
      const server = m.server ?? m.source;
      lines.push(
        `mount ${m.mountPoint} (${m.fstype}${m.version ? ` vers=${m.version}` : ''} from ${m.source}): NFS server ${server} likely unreachable or the file handle is stale; remedies: umount -f ${m.mountPoint}, umount -l ${m.mountPoint}, remount with nfsvers=3 or nolock`,
      );
    } else if (isFuse(m.fstype)) {
      lines.push(`mount ${m.mountPoint} (${m.fstype}, source ${m.source}): its FUSE daemon does not answer (stopped or hung); remedies: restart the daemon, umount -f ${m.mountPoint} or umount -l ${m.mountPoint}`);
    } else if (isNetworkFs(m.fstype)) {
      lines.push(`mount ${m.mountPoint} (${m.fstype} from ${m.source}): server ${m.server ?? '?'} likely unreachable; remedies: umount -f ${m.mountPoint}, umount -l ${m.mountPoint}`);
    } else {
      lines.push(`mount ${m.mountPoint} (${m.fstype} from ${m.source}) is named by the command`);
    }
  }
  for (const k of ['nfs', 'fuse', 'cifs', 'disk', 'lock', 'socket', 'poll', 'pipe', 'child', 'timer', 'other'] as const) {
    if (!kinds.has(k)) continue;
    const who = live.filter((p) => classifyWchan(p.wchan) === k).map((p) => `${p.comm}[${p.pid}] at ${p.wchan}`);
    lines.push(`${WAIT_WORDS[k]}: ${who.join(', ')}`);
  }
  if (live.length > 0 && live.every((p) => p.state === 'R')) lines.push('all processes were running on CPU: a busy loop or a very slow computation, not a kernel wait');
  if (live.length === 0) lines.push('no process of the step was left at expiry (only zombies): it ended as the deadline hit');
  return lines;
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/** Pure: the watchdog's report for a human. */
export function renderWatchdogReport(r: WatchdogResult): string {
  if (r.hang === null) {
    if (r.failedToStart) return `${r.describe}: could not start (${r.stderr.trim()})`;
    return `${r.describe}: ${r.ok ? 'finished' : r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`} in ${r.durationMs} ms`;
  }
  const h = r.hang;
  const lines = [
    `${h.describe}: no end within ${h.timeoutMs} ms (ran ${h.runningMs} ms); sent SIGTERM to its process group${h.sigkillSent ? `, SIGKILL after ${h.graceMs} ms` : ''}`,
    `  command: ${h.argv.join(' ')}`,
    '  processes at expiry:',
    `    ${pad('PID', 8)}${pad('PPID', 8)}${pad('S', 3)}${pad('WCHAN', 26)}COMMAND`,
    ...h.processes.map((p) => `    ${pad(String(p.pid), 8)}${pad(String(p.ppid), 8)}${pad(p.state, 3)}${pad(p.wchan ?? '-', 26)}${p.cmdline}`),
  ];
  if (h.mounts.length > 0) {
    lines.push('  mounts involved:');
    for (const m of h.mounts) lines.push(`    ${m.mountPoint}  ${m.fstype}  ${m.source}${m.server ? `  server ${m.server}` : ''}`);
  }
  if (h.survivors.length > 0) {
    lines.push(`  still alive after SIGKILL (abandoned): ${h.survivors.map((p) => `${p.comm}[${p.pid}] ${p.state} ${p.wchan ?? ''}`.trim()).join(', ')}`);
  }
  if (h.explanation.length > 0) {
    lines.push('  likely cause:');
    for (const e of h.explanation) lines.push(`    - ${e}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Self watch: the event loop of this process
// ---------------------------------------------------------------------------------------------

const LABEL_MAX = 512;
// Int32 slots: 0 heartbeat counter, 1 label length, 2 label sequence (odd while writing), 3 stop flag.
const SLOTS = 4;

let shared: { i32: Int32Array; bytes: Uint8Array } | undefined;
let currentActivity = 'starting';

/** Records what the main thread is doing now; the self-watcher prints it if the loop stalls. */
export function setActivity(label: string): void {
  currentActivity = label;
  if (shared === undefined) return;
  const enc = Buffer.from(label, 'utf8').subarray(0, LABEL_MAX);
  // A seqlock: the watcher retries a read that overlapped a write.
  Atomics.add(shared.i32, 2, 1);
  shared.bytes.set(enc);
  Atomics.store(shared.i32, 1, enc.length);
  Atomics.add(shared.i32, 2, 1);
}

export function currentActivityLabel(): string {
  return currentActivity;
}

export interface WatchSelfOptions {
  maxStallMs: number;
  /** Exit code when the loop stalls: 70 (EX_SOFTWARE) so a supervisor sees a failure. */
  exitCode?: number;
}

export interface SelfWatch {
  stop(): Promise<void>;
}

// Source of the watcher thread: an eval'd worker needs no file on disk, which keeps it working the
// same from src/ under vitest and from dist/. The worker inherits execArgv, and under
// --input-type=module its code is ESM: dynamic import() works in either mode, require does not.
const WATCHER_SOURCE = `
(async () => {
const { workerData } = await import('node:worker_threads');
const fs = await import('node:fs');
const inspector = await import('node:inspector').catch(() => null);
const { sab, maxStallMs, exitCode, labelMax } = workerData;
const i32 = new Int32Array(sab, 0, ${SLOTS});
const bytes = new Uint8Array(sab, ${SLOTS * 4}, labelMax);
function label() {
  for (let i = 0; i < 10; i++) {
    const s = Atomics.load(i32, 2);
    if (s & 1) continue;
    const text = Buffer.from(bytes.slice(0, Atomics.load(i32, 1))).toString('utf8');
    if (Atomics.load(i32, 2) === s) return text;
  }
  return '(being updated)';
}
const checkMs = Math.max(5, Math.min(100, Math.floor(maxStallMs / 5)));
let last = Atomics.load(i32, 0);
let since = performance.now();
let stalled = false;
for (;;) {
  Atomics.wait(i32, 3, 0, checkMs);
  if (Atomics.load(i32, 3) !== 0) break;
  const beat = Atomics.load(i32, 0);
  const now = performance.now();
  if (beat !== last) { last = beat; since = now; continue; }
  if (now - since > maxStallMs) { stalled = true; break; }
}
if (stalled) {
  const ms = Math.round(performance.now() - since);
  // Straight to fd 2: a worker's process.stderr is relayed by the main thread, which is stuck.
  fs.writeSync(2, 'reconcile: event loop stalled for ' + ms + ' ms (limit ' + maxStallMs + ' ms) during: ' + label() + '; exiting with code ' + exitCode + '\\n');
  // process.exit in a worker ends only the worker. The inspector interrupts the main isolate even
  // in a busy loop and exits from there with our code.
  try {
    const session = new inspector.Session();
    session.connectToMainThread();
    session.post('Runtime.evaluate', { expression: 'process.reallyExit(' + exitCode + ')' });
  } catch {}
  // A main thread blocked inside a system call never sees the interrupt: kill it outright.
  setTimeout(() => { process.kill(process.pid, 'SIGKILL'); }, Math.max(1000, maxStallMs));
}
})();
`;

let activeWatch: { worker: Worker; timer: NodeJS.Timeout } | undefined;

/**
 * Starts a watcher thread that ends the process (exit 70) when the main event loop does not turn
 * for longer than maxStallMs, after printing the last activity label to stderr. Idempotent.
 */
export function watchSelf(options: WatchSelfOptions): SelfWatch {
  if (activeWatch === undefined) {
    const sab = new SharedArrayBuffer(SLOTS * 4 + LABEL_MAX);
    shared = { i32: new Int32Array(sab, 0, SLOTS), bytes: new Uint8Array(sab, SLOTS * 4, LABEL_MAX) };
    setActivity(currentActivity);
    const worker = new Worker(WATCHER_SOURCE, {
      eval: true,
      workerData: { sab, maxStallMs: options.maxStallMs, exitCode: options.exitCode ?? 70, labelMax: LABEL_MAX },
    });
    worker.unref();
    // An unhandled 'error' from a worker would crash the main thread: a broken watcher only says so.
    worker.on('error', (e) => process.stderr.write(`reconcile: self-watch thread failed: ${e.message}\n`));
    const i32 = shared.i32;
    const timer = setInterval(() => Atomics.add(i32, 0, 1), Math.max(5, Math.floor(options.maxStallMs / 5)));
    timer.unref();
    activeWatch = { worker, timer };
  }
  return {
    async stop() {
      const w = activeWatch;
      if (w === undefined || shared === undefined) return;
      activeWatch = undefined;
      clearInterval(w.timer);
      Atomics.store(shared.i32, 3, 1);
      Atomics.notify(shared.i32, 3);
      await w.worker.terminate();
      shared = undefined;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Blocking file work in an abandonable child
// ---------------------------------------------------------------------------------------------

export type FileOp = { op: 'stat' | 'lstat' | 'readdir'; path: string } | { op: 'mkdir'; path: string; mode?: number; recursive?: boolean };

export interface FileOpResult {
  ok: boolean;
  ms: number;
  error?: string;
  /** The op did not answer within the deadline (the child was killed and abandoned). */
  timedOut?: boolean;
  stat?: { type: 'file' | 'dir' | 'symlink' | 'other'; mode: number; uid: number; gid: number; size: number };
  entries?: string[];
}

// All ops start at once, each on its own libuv pool thread, so one dead path does not hold up the
// others; each answer is a JSON line as soon as it is known.
const FILE_OPS_SOURCE = `
const fs = require('node:fs');
const ops = JSON.parse(process.argv[1]);
const t0 = performance.now();
const say = (i, r) => process.stdout.write(JSON.stringify({ i, ms: Math.round(performance.now() - t0), ...r }) + '\\n');
const type = (s) => s.isFile() ? 'file' : s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'symlink' : 'other';
ops.forEach((o, i) => {
  const done = (err, v) => {
    if (err) return say(i, { ok: false, error: err.code ? err.code + ': ' + err.message : String(err) });
    if (o.op === 'stat' || o.op === 'lstat') return say(i, { ok: true, stat: { type: type(v), mode: v.mode & 0o7777, uid: v.uid, gid: v.gid, size: v.size } });
    if (o.op === 'readdir') return say(i, { ok: true, entries: v });
    say(i, { ok: true });
  };
  if (o.op === 'stat') fs.stat(o.path, done);
  else if (o.op === 'lstat') fs.lstat(o.path, done);
  else if (o.op === 'readdir') fs.readdir(o.path, done);
  else if (o.op === 'mkdir') fs.mkdir(o.path, { mode: o.mode ?? 0o755, recursive: !!o.recursive }, (e) => done(e));
  else say(i, { ok: false, error: 'unknown op ' + o.op });
});
`;

/**
 * Runs file operations that may block in the kernel in a child node process. At the deadline the
 * child gets SIGKILL and is abandoned (never waited for: in D state it may outlive us); ops without
 * an answer come back as timedOut. A mkdir abandoned this way may still happen once the mount answers.
 */
export function fileOpsInChild(ops: readonly FileOp[], deadlineMs: number): Promise<FileOpResult[]> {
  if (ops.length === 0) return Promise.resolve([]);
  return new Promise((resolve) => {
    const results: (FileOpResult | undefined)[] = ops.map(() => undefined);
    let answered = 0;
    const env: NodeJS.ProcessEnv = { ...childEnv(), UV_THREADPOOL_SIZE: String(Math.min(128, Math.max(4, ops.length + 1))) };
    delete env.NODE_OPTIONS; // a test runner's loader hooks or --inspect do not belong in this child
    const child = spawn(process.execPath, ['-e', FILE_OPS_SOURCE, '--', JSON.stringify(ops)], { stdio: ['ignore', 'pipe', 'pipe'], env, shell: false });
    let buf = '';
    let err = '';
    let done = false;
    const finish = (why?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) {
        try {
          child.kill('SIGKILL');
        } catch {
          // gone already
        }
      }
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
      resolve(
        results.map(
          (r) => r ?? (why === 'deadline' ? { ok: false, ms: deadlineMs, timedOut: true, error: `no answer within ${deadlineMs} ms` } : { ok: false, ms: 0, error: `probe child failed: ${why ?? err.trim()}` }),
        ),
      );
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const { i, ...r } = JSON.parse(line) as FileOpResult & { i: number };
          if (results[i] === undefined) answered++;
          results[i] = r;
        } catch {
          // not one of ours
        }
      }
      if (answered === ops.length) finish();
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      if (err.length < 4096) err += c;
    });
    child.once('error', (e) => finish(e.message));
    child.once('close', (code, signal) => finish(code === 0 ? undefined : `exit ${code ?? signal}: ${err.trim()}`));
    const timer = setTimeout(() => finish('deadline'), deadlineMs);
  });
}

/** stat of each path from an abandonable child; the map is keyed by the paths as given. */
export async function statInChild(realPaths: readonly string[], deadlineMs: number): Promise<Map<string, FileOpResult>> {
  const unique = [...new Set(realPaths)];
  const results = await fileOpsInChild(
    unique.map((p) => ({ op: 'stat' as const, path: p })),
    deadlineMs,
  );
  return new Map(unique.map((p, i) => [p, results[i]!]));
}
