/**
 * Explaining and reporting a hang: what the processes of a command that did not end were waiting
 * for in the kernel, and the report a human reads. The facts are recorded by the exec layer
 * (src/host/watchdog.ts); this module only reads them.
 */
import type { ExecResult } from '../host/exec.js';
import { isFuse, isNetworkFs, type MountRef } from '../host/mounts.js';
import type { GroupProcess, WatchdogResult } from '../host/watchdog.js';

const alive = (p: { state: string }): boolean => p.state !== 'Z' && p.state !== 'X';

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
  const explanation = explainHang(h.processes, h.mounts);
  if (explanation.length > 0) {
    lines.push('  likely cause:');
    for (const e of explanation) lines.push(`    - ${e}`);
  }
  return lines.join('\n');
}

/** How a failed command is shown to a human: the argv, why it failed, the end of its stderr. */
export function describeFailure(r: ExecResult): string {
  const cmd = r.argv.join(' ');
  if (r.failedToStart) return `${cmd}: could not start (${r.stderr.trim()})`;
  if (r.timedOut && r.hang) return renderWatchdogReport(r);
  if (r.timedOut) return `${cmd}: no answer within its deadline after ${r.durationMs} ms, killed`;
  const why = r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`;
  const tail = r.stderr.trim().split('\n').slice(-10).join('\n');
  return `${cmd}: ${why}${tail ? `\n${tail}` : ''}`;
}
