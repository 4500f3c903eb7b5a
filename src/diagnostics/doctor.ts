/**
 * `reconcile doctor`: one look at what makes a host slow or stuck. runDoctor is the thin
 * gathering edge; deriveFindings and the renderers are pure functions of the report.
 */
import { hostname } from 'node:os';
import { exec } from '../host/exec.js';
import { sampleIo, type DeviceIo, type ProcessIo } from './diskio.js';
import { mayHang, nfsVersionOf, readMountInfo, serverOf, type MountInfo } from '../host/mounts.js';
import { probeMounts } from '../host/probe.js';
import { commandLine, readAllStats, readProcs, type ProcStat } from '../host/proc.js';
import { classifyWchan, type WaitKind } from './hang.js';

export type Severity = 'ok' | 'warn' | 'crit';

export interface Finding {
  severity: Severity;
  area: 'disk' | 'io' | 'mount' | 'process' | 'units' | 'replication' | 'time';
  /** One line. */
  message: string;
}

export interface MountProbe {
  mountPoint: string;
  fstype: string;
  source: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export interface StaleMount extends MountProbe {
  server: string | null;
  /** NFS protocol version, when the mount is NFS. */
  version: string | null;
}

export interface DStateProcess {
  pid: number;
  comm: string;
  wchan: string | null;
  waitKind: WaitKind | null;
  cmdline: string;
  /** In D state at both the start and the end of the interval: stuck, not merely doing IO. */
  persistent: boolean;
}

export interface FailedUnit {
  unit: string;
  load: string;
  active: string;
  sub: string;
  description: string;
  lastLog: string[];
}

export interface UnitsSection {
  /** `not running`: no systemd manager to ask (a container, a chroot, this test VM). */
  status: 'checked' | 'not running' | 'error';
  systemState: string | null;
  failed: FailedUnit[];
  note?: string;
}

export interface DoctorReport {
  formatVersion: 1;
  host: string;
  takenAt: string;
  intervalMs: number;
  probeDeadlineMs: number;
  disks: DeviceIo[];
  topWriters: ProcessIo[];
  topReaders: ProcessIo[];
  mounts: { total: number; probed: MountProbe[]; stale: StaleMount[] };
  dState: DStateProcess[];
  units: UnitsSection;
  replication: { status: 'not configured' | 'primary' | 'standby' | 'unreachable'; want?: 'primary' | 'standby'; lines?: string[]; degraded?: boolean };
  /** The time zone the spec wants against the one /etc/localtime names (with --spec). */
  time?: { want: string | null; have: string | null };
  /** reconcile's own state on this host: the last apply and who holds the apply lock now. */
  reconcile?: { root: string; lastApply: { at: string; spec: string; commit: string | null } | null; lockHolder: { host: string; pid: number; plan?: string; since: string } | null };
  /** What could not be looked at, and why; not problems of the host. */
  notes: string[];
  findings: Finding[];
}

export interface DoctorOptions {
  intervalMs: number;
  probeDeadlineMs: number;
  /** Processes listed per side (writers, readers). */
  top?: number;
  allDevices?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Pure parts
// ---------------------------------------------------------------------------------------------

/** Filesystems with nothing behind them to go stale, or where a stat has side effects (autofs mounts). */
const NOT_PROBED = new Set([
  'proc', 'sysfs', 'devtmpfs', 'devpts', 'cgroup', 'cgroup2', 'mqueue', 'debugfs', 'tracefs', 'securityfs',
  'pstore', 'bpf', 'configfs', 'fusectl', 'binfmt_misc', 'autofs', 'hugetlbfs', 'rpc_pipefs', 'nsfs', 'efivarfs', 'selinuxfs',
]);

/**
 * Mount points worth a stat: every real filesystem, once per mount point. Local ones are cheap to
 * probe and a failing disk hangs too; network and FUSE ones are the usual suspects.
 */
export function mountsToProbe(mounts: readonly MountInfo[]): MountInfo[] {
  const byPoint = new Map<string, MountInfo>();
  for (const m of mounts) if (!NOT_PROBED.has(m.fstype)) byPoint.set(m.mountPoint, m); // the last one is on top
  return [...byPoint.values()];
}

export function parseFailedUnitsJson(text: string): Omit<FailedUnit, 'lastLog'>[] {
  const data = JSON.parse(text) as unknown;
  if (!Array.isArray(data)) return [];
  return data
    .filter((u): u is Record<string, unknown> => typeof u === 'object' && u !== null && typeof (u as { unit?: unknown }).unit === 'string')
    .map((u) => ({
      unit: String(u.unit),
      load: String(u.load ?? ''),
      active: String(u.active ?? ''),
      sub: String(u.sub ?? ''),
      description: String(u.description ?? ''),
    }));
}

/** `systemctl list-units --plain --no-legend` lines; older systemd marks failed units with a leading ●. */
export function parseFailedUnitsPlain(text: string): Omit<FailedUnit, 'lastLog'>[] {
  const out: Omit<FailedUnit, 'lastLog'>[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^[\s●*]+/, '').trim();
    if (line === '') continue;
    const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (m) out.push({ unit: m[1]!, load: m[2]!, active: m[3]!, sub: m[4]!, description: m[5]! });
  }
  return out;
}

const mb = (bytesPerSec: number): string => formatBytes(bytesPerSec) + '/s';

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** A kernel thread (jbd2, kworker, flush) writes on behalf of others: it is not the one to name. */
const isKernelThread = (p: ProcessIo): boolean => p.cmdline.startsWith('[') && p.cmdline.endsWith(']');

export type FindingInput = Omit<DoctorReport, 'findings' | 'formatVersion' | 'host' | 'takenAt'>;

/** Pure: the findings, worst first; a single ok line when there is nothing to say. */
export function deriveFindings(r: FindingInput): Finding[] {
  const f: Finding[] = [];
  const userWriter = r.topWriters.find((p) => !isKernelThread(p) && p.writeBytesPerSec > 0);
  for (const d of r.disks) {
    const busy = `${d.name} ${d.utilPct.toFixed(0)}% busy, await ${d.awaitMs === null ? '-' : d.awaitMs.toFixed(1)} ms, ${d.writesPerSec.toFixed(0)} w/s ${d.writeKBPerSec.toFixed(0)} kB/s written`;
    const who = userWriter ? `; top writer ${userWriter.comm} (pid ${userWriter.pid}) ${mb(userWriter.writeBytesPerSec)}` : '';
    if (d.utilPct >= 90) f.push({ severity: 'crit', area: 'disk', message: `${busy}: saturated${who}` });
    else if (d.utilPct >= 70) f.push({ severity: 'warn', area: 'disk', message: `${busy}: heavily used${who}` });
    else if (d.awaitMs !== null && d.awaitMs >= 200) f.push({ severity: 'warn', area: 'disk', message: `${busy}: slow answers (await ${d.awaitMs.toFixed(0)} ms)${who}` });
  }
  for (const s of r.mounts.stale) {
    const what = `${s.fstype}${s.version ? ` vers=${s.version}` : ''} from ${s.source}${s.server ? ` (server ${s.server})` : ''}`;
    const remedy = s.fstype.startsWith('nfs')
      ? `umount -f ${s.mountPoint}, umount -l ${s.mountPoint}, or remount with nfsvers=3 / nolock`
      : `umount -f ${s.mountPoint} or umount -l ${s.mountPoint}`;
    f.push({ severity: 'crit', area: 'mount', message: `stale mount ${s.mountPoint} (${what}): ${s.error ?? 'no answer'}; remedies: ${remedy}` });
  }
  for (const p of r.dState.filter((x) => x.persistent)) {
    f.push({ severity: 'warn', area: 'process', message: `${p.comm} (pid ${p.pid}) stuck in D state at ${p.wchan ?? '?'}${p.waitKind ? ` (${p.waitKind})` : ''}: ${p.cmdline}` });
  }
  for (const u of r.units.failed) {
    f.push({ severity: 'warn', area: 'units', message: `unit ${u.unit} failed (${u.sub})${u.lastLog.length > 0 ? `: ${u.lastLog[u.lastLog.length - 1]}` : ''}` });
  }
  if (r.replication.degraded) {
    const rep = r.replication;
    f.push({ severity: 'crit', area: 'replication', message: rep.status === 'unreachable' ? `PostgreSQL does not answer: ${rep.lines?.[0] ?? ''}` : rep.want && rep.want !== rep.status ? `PostgreSQL is a ${rep.status}, the spec says ${rep.want}` : `replication is not streaming: ${(rep.lines ?? []).join('; ') || 'no standby connected'}` });
  }
  if (r.time?.want && r.time.want !== r.time.have) {
    f.push({ severity: 'warn', area: 'time', message: `the time zone is ${r.time.have ?? 'unknown'}, the spec says ${r.time.want}` });
  }
  if (userWriter && !f.some((x) => x.area === 'disk')) {
    f.push({ severity: 'ok', area: 'io', message: `top writer ${userWriter.comm} (pid ${userWriter.pid}) ${mb(userWriter.writeBytesPerSec)}: ${userWriter.cmdline}` });
  }
  const rank: Record<Severity, number> = { crit: 0, warn: 1, ok: 2 };
  f.sort((a, b) => rank[a.severity] - rank[b.severity]);
  if (!f.some((x) => x.severity !== 'ok')) f.push({ severity: 'ok', area: 'disk', message: 'no stale mounts, no stuck processes, no saturated disks, no failed units' });
  return f;
}

const padL = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const padR = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const n2 = (v: number | null): string => (v === null ? '-' : v.toFixed(2));

/** Pure: the report for a human, laid out like sar -d and iotop. */
export function renderDoctorText(r: DoctorReport): string {
  const out: string[] = [];
  out.push(`reconcile doctor on ${r.host} at ${r.takenAt}, sampled over ${r.intervalMs} ms`);
  out.push('');
  const nameW = Math.max(6, ...r.disks.map((d) => d.name.length + 1));
  out.push(`${padR('DEV', nameW)}${['r/s', 'w/s', 'rkB/s', 'wkB/s', 'await', 'aqu-sz', '%util'].map((h) => padL(h, 10)).join('')}`);
  for (const d of r.disks) {
    out.push(
      padR(d.name, nameW) +
        [d.readsPerSec, d.writesPerSec, d.readKBPerSec, d.writeKBPerSec, d.awaitMs, d.queueSize, d.utilPct].map((v) => padL(n2(v), 10)).join(''),
    );
  }
  if (r.disks.length === 0) out.push('(no block device with IO)');
  const procTable = (title: string, rows: ProcessIo[]): void => {
    out.push('');
    out.push(title);
    if (rows.length === 0) {
      out.push('(none)');
      return;
    }
    const commW = Math.max(8, ...rows.map((p) => p.comm.length + 1));
    out.push(`${padL('PID', 8)} ${padR('COMM', commW)}${padL('WRITE/s', 11)}${padL('READ/s', 11)}${padL('wchar/s', 11)}${padL('rchar/s', 11)}  COMMAND`);
    for (const p of rows) {
      out.push(
        `${padL(String(p.pid), 8)} ${padR(p.comm, commW)}${padL(formatBytes(p.writeBytesPerSec), 11)}${padL(formatBytes(p.readBytesPerSec), 11)}${padL(formatBytes(p.wcharPerSec), 11)}${padL(formatBytes(p.rcharPerSec), 11)}  ${p.cmdline.length > 120 ? `${p.cmdline.slice(0, 117)}...` : p.cmdline}`,
      );
    }
  };
  procTable('TOP WRITERS (bytes/s to storage)', r.topWriters);
  procTable('TOP READERS (bytes/s from storage)', r.topReaders);
  out.push('');
  out.push(`MOUNTS: ${r.mounts.total} mounted, ${r.mounts.probed.length} probed within ${r.probeDeadlineMs} ms, ${r.mounts.stale.length} stale`);
  for (const s of r.mounts.stale) out.push(`  STALE ${s.mountPoint}  ${s.fstype}  ${s.source}${s.server ? `  server ${s.server}` : ''}  ${s.error ?? ''}`.trimEnd());
  out.push('');
  out.push(`PROCESSES IN D STATE: ${r.dState.length}`);
  for (const p of r.dState) out.push(`  ${padL(String(p.pid), 8)} ${padR(p.wchan ?? '-', 26)}${p.persistent ? 'stuck ' : ''}${p.cmdline}`);
  out.push('');
  const unitsLine =
    r.units.status === 'checked' ? `${r.units.failed.length} failed (system ${r.units.systemState ?? '?'})` : r.units.status === 'not running' ? 'systemd not running' : `could not ask systemd`;
  // The why of "not running" is already among the notes.
  out.push(`UNITS: ${unitsLine}${r.units.note && r.units.status !== 'not running' ? ` (${r.units.note})` : ''}`);
  for (const u of r.units.failed) {
    out.push(`  ${u.unit}  ${u.load} ${u.active} ${u.sub}  ${u.description}`);
    for (const l of u.lastLog) out.push(`    | ${l}`);
  }
  const rep = r.replication;
  out.push(`REPLICATION: ${rep.status}${rep.want && rep.want !== rep.status ? ` (the spec says ${rep.want})` : ''}`);
  for (const l of rep.lines ?? []) out.push(`  ${l}`);
  if (r.time) out.push(`TIME ZONE: ${r.time.have ?? 'unknown'}${r.time.want && r.time.want !== r.time.have ? ` (the spec says ${r.time.want})` : ''}`);
  if (r.reconcile) {
    const last = r.reconcile.lastApply;
    const lock = r.reconcile.lockHolder;
    out.push(`RECONCILE (root ${r.reconcile.root}): last apply ${last ? `${last.at} of ${last.spec}${last.commit ? ` at ${last.commit.slice(0, 12)}` : ''}` : 'never'}; apply lock ${lock ? `held by ${lock.host} pid ${lock.pid} since ${lock.since}` : 'free'}`);
  }
  if (r.notes.length > 0) {
    out.push('');
    out.push('NOTES');
    for (const n of r.notes) out.push(`  ${n}`);
  }
  out.push('');
  out.push('FINDINGS');
  for (const f of r.findings) out.push(`  ${padR(f.severity.toUpperCase(), 5)} ${padR(f.area, 12)}${f.message}`);
  return out.join('\n') + '\n';
}

/** Pure: the JSON form (the report is already plain versioned data). */
export function renderDoctorJson(r: DoctorReport): string {
  return JSON.stringify(r, null, 2) + '\n';
}

/** The CLI contract: 0 healthy, 2 something needs attention (a warning or worse); 1 is for errors of doctor itself. */
export function doctorExitCode(r: DoctorReport): number {
  return r.findings.some((f) => f.severity !== 'ok') ? 2 : 0;
}

// ---------------------------------------------------------------------------------------------
// Gathering (the thin edge)
// ---------------------------------------------------------------------------------------------

async function gatherMounts(deadlineMs: number, notes: string[]): Promise<DoctorReport['mounts']> {
  let mounts: MountInfo[];
  try {
    mounts = await readMountInfo();
  } catch (e) {
    notes.push(`mounts: could not read /proc/self/mountinfo: ${(e as Error).message}`);
    return { total: 0, probed: [], stale: [] };
  }
  const targets = mountsToProbe(mounts);
  const results = await probeMounts(
    targets.map((m) => m.mountPoint),
    deadlineMs,
  );
  const probed: MountProbe[] = [];
  const stale: StaleMount[] = [];
  for (const m of targets) {
    const r = results.get(m.mountPoint) ?? { ok: false, ms: deadlineMs, error: 'not probed' };
    const p: MountProbe = { mountPoint: m.mountPoint, fstype: m.fstype, source: m.source, ok: r.ok, ms: r.ms, ...(r.error ? { error: r.error } : {}) };
    probed.push(p);
    // A local mount that answers with an error (EACCES under a user namespace) is not stale; only
    // silence is, and any error from a network or FUSE filesystem (ESTALE, ENOTCONN, EIO).
    const silent = !r.ok && (r.error === undefined || /no answer/.test(r.error));
    if (silent || (!r.ok && mayHang(m))) stale.push({ ...p, server: serverOf(m), version: nfsVersionOf(m) });
  }
  return { total: mounts.length, probed, stale };
}

async function gatherDState(startStats: Promise<ProcStat[]>, notes: string[]): Promise<DStateProcess[]> {
  try {
    const before = await startStats;
    const after = await readAllStats();
    const wasD = new Set(before.filter((s) => s.state === 'D').map((s) => `${s.pid}/${s.startTime}`));
    const nowD = after.filter((s) => s.state === 'D');
    const procs = await readProcs(nowD.map((s) => s.pid));
    return procs
      .filter((p) => p.state === 'D')
      .map((p) => ({
        pid: p.pid,
        comm: p.comm,
        wchan: p.wchan,
        waitKind: classifyWchan(p.wchan),
        cmdline: commandLine(p),
        persistent: wasD.has(`${p.pid}/${p.startTime}`),
      }));
  } catch (e) {
    notes.push(`processes: could not read /proc: ${(e as Error).message}`);
    return [];
  }
}

const LIVE_STATES = new Set(['initializing', 'starting', 'running', 'degraded', 'maintenance', 'stopping']);

async function gatherUnits(): Promise<UnitsSection> {
  const state = await exec(['systemctl', 'is-system-running'], { timeoutMs: 5_000, killGraceMs: 1_000 });
  const systemState = state.stdout.trim().split('\n')[0] ?? '';
  if (state.failedToStart) return { status: 'not running', systemState: null, failed: [], note: 'systemctl not installed' };
  if (!LIVE_STATES.has(systemState)) {
    const why = (systemState || state.stderr.trim().split('\n')[0]) ?? '';
    return { status: 'not running', systemState: systemState || null, failed: [], note: `systemd is not PID 1 here${why ? `: ${why}` : ''}` };
  }
  let units: Omit<FailedUnit, 'lastLog'>[];
  const json = await exec(['systemctl', 'list-units', '--state=failed', '--all', '--output=json', '--no-pager'], { timeoutMs: 10_000, killGraceMs: 1_000 });
  try {
    if (!json.ok) throw new Error('no json');
    units = parseFailedUnitsJson(json.stdout);
  } catch {
    // systemd before v250 has no --output=json for list-units.
    const plain = await exec(['systemctl', 'list-units', '--state=failed', '--all', '--plain', '--no-legend', '--no-pager'], { timeoutMs: 10_000, killGraceMs: 1_000 });
    if (!plain.ok) return { status: 'error', systemState, failed: [], note: plain.stderr.trim().split('\n')[0] ?? 'systemctl list-units failed' };
    units = parseFailedUnitsPlain(plain.stdout);
  }
  const failed = await Promise.all(
    units.map(async (u, i): Promise<FailedUnit> => {
      if (i >= 10) return { ...u, lastLog: [] }; // a host with hundreds failed needs no hundred journal reads
      const log = await exec(['journalctl', '-u', u.unit, '-n', '5', '--no-pager', '-o', 'cat'], { timeoutMs: 5_000, killGraceMs: 1_000 });
      return { ...u, lastLog: log.ok ? log.stdout.split('\n').filter((l) => l.trim() !== '') : [] };
    }),
  );
  return { status: 'checked', systemState, failed };
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const notes: string[] = [];
  const takenAt = new Date().toISOString();
  const startStats = readAllStats().catch(() => [] as ProcStat[]);
  // Everything runs during the one sampling interval: the probe and systemctl must not add to it.
  const [io, mounts, units] = await Promise.all([
    sampleIo({ intervalMs: options.intervalMs, top: options.top ?? 10, allDevices: options.allDevices }).catch((e: Error) => {
      notes.push(`disk IO: ${e.message}`);
      return { intervalMs: options.intervalMs, devices: [], topWriters: [], topReaders: [] };
    }),
    gatherMounts(options.probeDeadlineMs, notes),
    gatherUnits().catch((e: Error): UnitsSection => ({ status: 'error', systemState: null, failed: [], note: e.message })),
  ]);
  const dState = await gatherDState(startStats, notes);
  if (units.status === 'not running') notes.push(`units: systemd not running${units.note ? ` (${units.note})` : ''}`);
  const input: FindingInput = {
    intervalMs: io.intervalMs,
    probeDeadlineMs: options.probeDeadlineMs,
    disks: io.devices,
    topWriters: io.topWriters,
    topReaders: io.topReaders,
    mounts,
    dState,
    units,
    replication: { status: 'not configured' },
    notes,
  };
  return { formatVersion: 1, host: hostname(), takenAt, ...input, findings: deriveFindings(input) };
}
