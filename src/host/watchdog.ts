/**
 * Nothing reconcile runs may hang forever. Three tools:
 * - runWithWatchdog: a step's command in its own process group with a deadline; on expiry the
 *   report says what every process of the group was doing in the kernel, then the group is ended.
 * - watchSelf: a watcher thread that ends this process when its own event loop stops turning.
 * Why a command hung, in words, is src/diagnostics/hang.ts's to say, from the facts recorded here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { childEnv } from '../spec/secrets.js';
import { commandLine, processTree, stateName, type ProcInfo } from './proc.js';
import { mountsForArgv, readMountInfo, type MountRef } from './mounts.js';

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
/** Milliseconds on a monotonic clock; `performance` would load perf_hooks (ms) into every plan that runs git. */
const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

export function runWithWatchdog(argv: string[], options: WatchdogOptions): Promise<WatchdogResult> {
  if (argv.length === 0) throw new Error('runWithWatchdog: empty argv');
  const graceMs = options.graceMs ?? 5_000;
  const maxOut = options.maxOutputBytes ?? 1 << 20;
  const describe = options.describe ?? argv.join(' ');
  const started = monotonicMs();

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
        durationMs: Math.round(monotonicMs() - started),
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
      const runningMs = Math.round(monotonicMs() - started);
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
      const deadline = monotonicMs() + graceMs;
      let left = await stillThere();
      while (left.length > 0 && monotonicMs() < deadline) {
        await sleep(Math.min(100, Math.max(1, deadline - monotonicMs())));
        left = await stillThere();
      }
      let sigkillSent = false;
      if (left.length > 0) {
        sigkillSent = true;
        signalGroup(pgid, [...new Set([...others, ...left.map((p) => p.pid)])], 'SIGKILL');
        // SIGKILL is acted on when the task leaves its kernel wait; give it a moment, not forever.
        const settle = monotonicMs() + 2_000;
        left = await stillThere();
        while (left.length > 0 && monotonicMs() < settle) {
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
    durationMs: Math.round(monotonicMs() - started),
    timedOut: false,
    failedToStart: true,
    ok: false,
    hang: null,
  };
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
