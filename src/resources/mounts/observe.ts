import type { Host } from '../../host/host.js';
import type { HostSpec } from '../../spec/types.js';
import type { ObserveContext } from '../types.js';
import { entryFor, normalisePath, parseFstab, unquoteTag } from './fstab.js';
import { hostMounts, locate, parseMountinfo, toHostPath } from './mountinfo.js';
import { isBind, isHostPathSource, isTagSource, splitOpt } from './options.js';
import type { FileFacts, LiveMount, MountSpec, MountsObserved, SourceFacts } from './types.js';

export const DEFAULT_PROBE_DEADLINE_MS = 5_000;
export const CREDENTIALS_DIR = '/etc/reconcile/credentials';

export function specMounts(spec: HostSpec): MountSpec[] {
  return ((spec.mounts as MountSpec[] | undefined) ?? []).map((m) => ({ ...m, path: normalisePath(m.path) }));
}

/** `/mnt/107 f` -> `mnt-107_20f`: one flat, unambiguous file name per mount point. */
export function credentialsPath(mountPath: string): string {
  const name = mountPath
    .replace(/^\/+/, '')
    .replace(/[^A-Za-z0-9.\/-]|[-_]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/\//g, '-');
  return `${CREDENTIALS_DIR}/${name || '_root'}`;
}

export function addressOf(path: string): string {
  return `mounts[${path}]`;
}

export function pathOfAddress(address: string): string | null {
  const m = /^mounts\[(.*)\]$/.exec(address);
  return m ? m[1]! : null;
}


/**
 * Source facts for the given mounts: loop backing files, where bind sources live, what
 * UUID=/LABEL= tags name. Used by observe and again by steps right before they act.
 */
export async function gatherSourceFacts(
  host: Host,
  all: LiveMount[],
  wanted: Array<Pick<MountSpec, 'source' | 'type' | 'options'>>,
  live: Iterable<LiveMount>,
): Promise<SourceFacts> {
  const facts: SourceFacts = { loopBacking: {}, bindSources: {}, tags: {} };
  const loops = [...new Set([...live].map((m) => m.source).filter((s) => /^\/dev\/loop\d+$/.test(s)))];
  await Promise.all(
    loops.map(async (dev) => {
      const backing = (await host.readLive(`/sys/block/${dev.slice(5)}/loop/backing_file`))?.trim();
      if (backing) facts.loopBacking[dev] = toHostPath(backing, host.root) ?? backing;
    }),
  );
  for (const w of wanted) {
    if ((isBind(w.options ?? []) || w.type === 'none') && isHostPathSource(w)) {
      const at = locate(all, host.resolve(w.source));
      if (at) facts.bindSources[w.source] = { majmin: at.mount.majmin, root: at.inner };
    }
  }
  const tags = [...new Set(wanted.map((w) => w.source).filter(isTagSource))];
  await Promise.all(
    tags.map(async (tag) => {
      const r = await host.exec(['findfs', unquoteTag(tag)], { timeoutMs: 5_000 });
      facts.tags[tag] = r.ok ? r.stdout.trim() : null;
    }),
  );
  return facts;
}

export async function readLiveMounts(host: Host): Promise<LiveMount[]> {
  return parseMountinfo((await host.readLive('/proc/self/mountinfo')) ?? '');
}

/**
 * One read of fstab, one of mountinfo; mounted targets are probed for staleness in a child
 * process with a deadline, never stat-ed here.
 */
export async function observeMounts(ctx: ObserveContext, probeDeadlineMs = DEFAULT_PROBE_DEADLINE_MS): Promise<MountsObserved> {
  const { host } = ctx;
  const mounts = specMounts(ctx.spec);
  const [fstab, all, accounts, systemd] = await Promise.all([
    host.readText('/etc/fstab'),
    readLiveMounts(host),
    ctx.accounts(),
    host.offline ? false : host.exists('/run/systemd/system'),
  ]);
  const paths = new Set([
    ...mounts.map((m) => m.path),
    ...ctx.owned.map(pathOfAddress).filter((p): p is string => p !== null),
  ]);
  const top = hostMounts(all, host.root);
  const live: Record<string, LiveMount> = {};
  for (const p of paths) {
    const m = top.get(p);
    if (m) live[p] = m;
  }
  const facts = await gatherSourceFacts(host, all, mounts, Object.values(live));
  const probed = await host.probeMounts(Object.values(live).map((m) => m.realPath), probeDeadlineMs);
  const probes: MountsObserved['probes'] = {};
  for (const m of Object.values(live)) probes[m.path] = probed.get(m.realPath)!;

  const specPaths = new Set(mounts.map((m) => m.path));
  // Credentials files the diff may compare or migrate into: spec'd ones and those for lines with password=.
  // Only lines with a password or our credentials file need a parse here.
  const parsed = parseFstab(fstab !== null && /pass(word)?=|credentials=/.test(fstab) ? fstab : '');
  // And the files of mounts that go (state: absent, or left the spec), which leave with them.
  const credPaths = [
    ...mounts
      .filter((m) => m.credentials || m.state === 'absent' || entryFor(parsed, m.path)?.options.some((o) => ['password', 'pass', 'credentials', 'cred'].includes(splitOpt(o)[0])))
      .map((m) => credentialsPath(m.path)),
    ...ctx.owned.map(pathOfAddress).filter((p): p is string => p !== null && !specPaths.has(p)).map(credentialsPath),
  ];
  const credentials: Record<string, FileFacts | null> = {};
  await Promise.all(
    credPaths.map(async (p) => {
      credentials[p] = await host.fileFacts(p);
    }),
  );
  const users: Record<string, number> = Object.fromEntries(accounts.users);
  const groups: Record<string, number> = Object.fromEntries(accounts.groups);
  return { fstab, live, probes, credentials, accounts: { users, groups }, ...facts, ...(systemd ? { systemd } : {}) };
}
