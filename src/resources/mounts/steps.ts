import { promises as fsp } from 'node:fs';
import { describeFailure } from '../../diagnostics/hang.js';
import type { Host } from '../../host/host.js';
import { probeMounts } from '../../host/probe.js';
import { StepError, type StepContext, type StepRunner } from '../types.js';
import { entryFor, parseFstab } from './fstab.js';
import { hostMounts } from './mountinfo.js';
import { gatherSourceFacts, readLiveMounts } from './observe.js';
import { isHostPathSource, liveOptionDrift, sameSourceAndType, splitOpt } from './options.js';
import { FSTAB, type PasswordSource } from './diff.js';
import { credentialsContent, credentialsValueProblem } from './credentials.js';
import type { DesiredMount, LiveMount } from './types.js';

/** Deadline for the staleness re-check right before a step touches a mount. */
export const STEP_PROBE_DEADLINE_MS = 2_000;

/**
 * `mount` argv with host paths resolved: under --root the target, file sources and credentials
 * are resolved inside it (mount(8) follows links itself, so a link leading out is refused here).
 */
export async function mountArgv(host: Host, d: DesiredMount, extra: string[] = []): Promise<string[]> {
  const options = await Promise.all(
    [...extra, ...d.options].map(async (o) => {
      const [k, v] = splitOpt(o);
      return k === 'credentials' && v?.startsWith('/') ? `credentials=${await host.realPath(v, { follow: true })}` : o;
    }),
  );
  const source = isHostPathSource(d) ? await host.realPath(d.source, { follow: true }) : d.source;
  const target = await host.realPath(d.path, { follow: true, write: true });
  if (target !== host.resolve(d.path)) {
    // The kernel would list the mount at the link's target, never at d.path: it would not converge.
    throw new StepError(`${d.path} has a symlink on its path under the root; it leads to ${target}: mount there in the spec, not through the link`);
  }
  // `--`: a source such as `-tmpfs` is a device name, never an option of mount(8).
  return ['mount', '-t', d.type, '-o', options.length ? options.join(',') : 'defaults', '--', source, target];
}

async function liveAt(host: Host, path: string): Promise<{ all: LiveMount[]; top: LiveMount | undefined }> {
  const all = await readLiveMounts(host);
  return { all, top: hostMounts(all, host.root).get(path) };
}

async function refuseIfStale(top: LiveMount): Promise<void> {
  const r = (await probeMounts([top.realPath], STEP_PROBE_DEADLINE_MS)).get(top.realPath)!;
  if (!r.ok) {
    throw new StepError(`${top.path} (${top.source}, ${top.fsType}) does not answer (${r.error}); not touching a stale mount`);
  }
}

export interface Holder {
  pid: number;
  command: string;
  uses: string[];
}

/** Processes using anything under a real path, like `fuser -m`: cwd, root, exe, open files, mapped files. */
export async function findHolders(realPath: string): Promise<Holder[]> {
  const under = (p: string) => {
    const clean = p.replace(/ \(deleted\)$/, '');
    return clean === realPath || clean.startsWith(realPath === '/' ? '/' : realPath + '/');
  };
  const link = (p: string) => fsp.readlink(p).catch(() => null);
  // /proc is the running kernel's, never the host root's: read directly like host.readLive does.
  const pids = (await fsp.readdir('/proc')).filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid);
  const holders: Holder[] = [];
  await Promise.all(
    pids.map(async (pid) => {
      const uses: string[] = [];
      for (const what of ['cwd', 'root', 'exe']) {
        const l = await link(`/proc/${pid}/${what}`);
        if (l && under(l)) uses.push(what);
      }
      const fds = await fsp.readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
      for (const fd of fds) {
        const l = await link(`/proc/${pid}/fd/${fd}`);
        if (l && under(l)) uses.push(`fd ${fd}`);
      }
      const maps = await fsp.readFile(`/proc/${pid}/maps`, 'utf8').catch(() => '');
      if (maps.split('\n').some((line) => { const f = line.indexOf('/'); return f >= 0 && under(line.slice(f)); })) uses.push('mmap');
      if (uses.length) {
        const command = (await fsp.readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
        holders.push({ pid: Number(pid), command, uses });
      }
    }),
  );
  return holders.sort((a, b) => a.pid - b.pid);
}

export function describeHolders(hs: Holder[]): string {
  return hs.map((h) => `pid ${h.pid} (${h.command}: ${h.uses.join(', ')})`).join('; ');
}

const mount: StepRunner = async (step, { host, timeoutMs }) => {
  const d = step.args.desired as DesiredMount;
  const { all, top } = await liveAt(host, d.path);
  if (top) {
    const facts = await gatherSourceFacts(host, all, [d], [top]);
    const drift = liveOptionDrift(d.options, top);
    if (sameSourceAndType(d, top, facts) && drift.missing.length + drift.clear.length === 0) return { status: 'already' };
    throw new StepError(`${d.path} has ${top.source} (${top.fsType}) mounted since the plan was made; plan again`);
  }
  const r = await host.exec(await mountArgv(host, d), { timeoutMs });
  if (!r.ok) throw new StepError(describeFailure(r), r.stderr);
  const after = await liveAt(host, d.path);
  if (!after.top) throw new StepError(`mount reported success but ${d.path} is not in /proc/self/mountinfo`);
  return { status: 'done' };
};

const remount: StepRunner = async (step, { host, timeoutMs }) => {
  const d = step.args.desired as DesiredMount;
  const options = step.args.options as string[];
  const { all, top } = await liveAt(host, d.path);
  if (!top) throw new StepError(`${d.path} is no longer mounted; plan again`);
  const facts = await gatherSourceFacts(host, all, [d], [top]);
  if (!sameSourceAndType(d, top, facts)) throw new StepError(`${d.path} has ${top.source} (${top.fsType}) mounted now; plan again`);
  const drift = liveOptionDrift(d.options, top);
  if (drift.missing.length + drift.clear.length === 0) return { status: 'already' };
  await refuseIfStale(top);
  // Source and target both given: mount(8) then reads no fstab (not the machine's, not the root's).
  const argv = await mountArgv(host, { ...d, options }, ['remount']);
  const r = await host.exec(argv, { timeoutMs });
  if (!r.ok) throw new StepError(describeFailure(r), r.stderr);
  return { status: 'done' };
};

const umount: StepRunner = async (step, { host, timeoutMs }) => {
  const path = step.args.path as string;
  const lazy = step.args.lazy === true;
  const { top } = await liveAt(host, path);
  if (!top) return { status: 'already' };
  // A lazy unmount detaches without touching the filesystem, so it is safe on a hung one.
  if (!lazy) await refuseIfStale(top);
  const real = await host.realPath(path, { follow: true });
  const r = await host.exec(['umount', ...(lazy ? ['-l'] : []), '--', real], { timeoutMs });
  if (r.ok) return { status: 'done' };
  const holders = await findHolders(real);
  if (holders.length) {
    throw new StepError(`${path} is busy, held by ${describeHolders(holders)}; stop them or set lazyUnmount: true`, r.stderr);
  }
  throw new StepError(describeFailure(r), r.stderr);
};

/** Resolves a secret at apply time so the plan never carries it. */
async function resolvePassword(source: PasswordSource, host: Host, ctx: StepContext, mountPath: string): Promise<string | null> {
  if ('fromFstab' in source) {
    const e = entryFor(parseFstab((await host.readText(FSTAB)) ?? ''), source.fromFstab);
    const v = e?.options.map(splitOpt).find(([k]) => k === 'password' || k === 'pass')?.[1];
    return v ?? null;
  }
  // Resolved with the spec's other references (src/spec/secrets.ts), never read again here.
  const value = ctx.secrets.get(source.ref);
  if (value === undefined) throw new StepError(`${mountPath}: internal: the secret reference ${source.ref} was not resolved`);
  return value;
}

const credentials: StepRunner = async (step, ctx) => {
  const { host } = ctx;
  const a = step.args as { path: string; username: string; domain?: string; password: PasswordSource };
  const password = await resolvePassword(a.password, host, ctx, a.path);
  const [current, st] = await Promise.all([host.readText(a.path), host.lstat(a.path)]);
  if (password === null) {
    // Migrated by an earlier apply: the fstab no longer holds the password, the file does.
    if ('fromFstab' in a.password && current !== null) return { status: 'already' };
    throw new StepError(`${a.path}: the password is not available (${'ref' in a.password ? a.password.ref : 'fstab'})`);
  }
  const problem = credentialsValueProblem('password', password);
  if (problem) throw new StepError(`${a.path}: the password (${'ref' in a.password ? a.password.ref : 'fstab'}) ${problem}`);
  const content = credentialsContent({ username: a.username, password, domain: a.domain });
  if (current === content && st && st.mode === 0o600 && st.uid === 0 && st.gid === 0) return { status: 'already' };
  // The old credentials are not kept in the journal: it is a log, and a password is no log line.
  await host.withoutBackup().writeFile(a.path, content, { mode: 0o600, uid: 0, gid: 0 });
  return { status: 'done' };
};

/** Removes a credentials file, re-checked against the plan; its bytes hold a password, so no journal backup. */
const removeCredentials: StepRunner = async (step, { host }) => {
  const a = step.args as { path: string; before: string | null };
  // Compared by keyed digest (as observed), so neither the plan nor this step sees the bytes.
  const current = await host.fileFacts(a.path);
  if (current === null) return { status: 'already' };
  if (current.hmac !== a.before) throw new StepError(`${a.path} changed since it was observed; plan again`);
  await host.withoutBackup().removeFile(a.path);
  return { status: 'done' };
};

export const mountsOps: Record<string, StepRunner> = {
  'mounts.mount': mount,
  'mounts.remount': remount,
  'mounts.umount': umount,
  'mounts.credentials': credentials,
  'mounts.credentials.remove': removeCredentials,
};
