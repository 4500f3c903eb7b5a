import type { Change, Step } from '../../plan/types.js';
import { exec, fileWrite, symlink } from '../../plan/steps.js';
import { fileDiff, linkDiff } from '../../plan/filediff.js';
import { sha256 } from '../../hash.js';
import { SpecValueError } from '../../errors.js';
import type { DiffInput, DiffOutput, ObserveContext, ResourceKind } from '../types.js';
import type { Host } from '../../host/host.js';

import { isZoneData, ZONE_NAME, ZONEINFO } from './zone.js';
import { observedEntry, risk } from './risk.js';

export { ZONEINFO };
const LOCALTIME = '/etc/localtime';
const TIMEZONE_FILE = '/etc/timezone';

export interface TimezoneObserved {
  /** readlink of /etc/localtime; null when missing or not a link. */
  link: string | null;
  /** /etc/localtime exists as a regular file (a copy, not a link). */
  localtimeIsFile: boolean;
  /** /etc/timezone as it is. */
  timezoneFile: string | null;
  /** sha256 of each zone file looked at, by zone name; null when tzdata has no such zone. */
  zones: Record<string, string | null>;
  /** The zone systemd-timedated reports; null under --root or without systemd. */
  live: string | null;
  /** systemd is running (timedatectl can be used). */
  systemd: boolean;
}

/** `../usr/share/zoneinfo/Asia/Shanghai` -> `Asia/Shanghai`. */
export function zoneOfLink(link: string | null): string | null {
  if (!link) return null;
  const i = link.indexOf('zoneinfo/');
  return i === -1 ? null : link.slice(i + 'zoneinfo/'.length);
}

/** Zone file bytes: the root's tzdata when it has one, else the running system's. */
export async function readZone(host: Host, zone: string): Promise<Buffer | null> {
  if (!ZONE_NAME.test(zone)) return null;
  const inRoot = await host.read(`${ZONEINFO}/${zone}`);
  if (inRoot !== null || !host.offline || (await host.exists(ZONEINFO))) return inRoot !== null && isZoneData(inRoot) ? inRoot : null;
  const system = await host.readLive(`${ZONEINFO}/${zone}`);
  const bytes = system === null ? null : Buffer.from(system, 'latin1');
  return bytes !== null && isZoneData(bytes) ? bytes : null;
}

async function observeTimezone({ host, spec }: ObserveContext): Promise<TimezoneObserved> {
  const [link, stat, timezoneFile, systemd] = await Promise.all([
    host.readlink(LOCALTIME),
    host.lstat(LOCALTIME),
    host.readText(TIMEZONE_FILE),
    host.offline ? Promise.resolve(false) : host.exists('/run/systemd/system'),
  ]);
  let live: string | null = null;
  if (systemd && spec.timezone !== undefined) {
    const r = await host.exec(['timedatectl', 'show', '-p', 'Timezone', '--value'], { timeoutMs: 10_000 });
    if (r.ok) live = r.stdout.trim();
  }
  const names = new Set([spec.timezone, zoneOfLink(link), timezoneFile?.trim(), live].filter((z): z is string => !!z));
  const zones: Record<string, string | null> = {};
  await Promise.all(
    [...names].map(async (z) => {
      const bytes = await readZone(host, z);
      zones[z] = bytes === null ? null : sha256(bytes);
    }),
  );
  return { link, localtimeIsFile: stat?.type === 'file', timezoneFile, zones, live, systemd };
}

/**
 * Cases (desired zone × /etc/localtime, /etc/timezone, timedated):
 *   link names the zone or an alias with the same zone file -> in sync
 *   link elsewhere, missing, or a copied file                 -> relink
 *   /etc/timezone names another zone file                     -> rewrite it
 *   timedated reports another zone (live host)                -> timedatectl set-timezone
 */
export function diffTimezone({ spec, observed }: DiffInput<TimezoneObserved>): DiffOutput {
  const want = spec.timezone;
  if (want === undefined) return { changes: [], observedByAddress: {}, managed: [] };
  const wantSha = observed.zones[want];
  if (!wantSha) throw new SpecValueError(['timezone'], `timezone: "${want}" is not a zone known to the host's tzdata (${ZONEINFO})`);
  const same = (zone: string | null | undefined) => !!zone && (zone === want || observed.zones[zone] === wantSha);

  const linkZone = zoneOfLink(observed.link);
  const linkOk = !observed.localtimeIsFile && same(linkZone);
  const fileZone = observed.timezoneFile?.trim();
  const fileOk = same(fileZone) && observed.timezoneFile === `${fileZone}\n`;
  const liveOk = !observed.systemd || same(observed.live);
  const target = `${ZONEINFO}/${want}`;

  const steps: Step[] = [];
  const diffs: string[] = [];
  if (!linkOk) {
    steps.push(symlink({ path: LOCALTIME, target, before: observed.link }));
    diffs.push(linkDiff(LOCALTIME, observed.link ?? (observed.localtimeIsFile ? '(a copied zone file)' : null), target));
  }
  if (!fileOk) {
    const content = `${want}\n`;
    steps.push(fileWrite({ path: TIMEZONE_FILE, content, before: observed.timezoneFile === null ? null : sha256(observed.timezoneFile), ...(observed.timezoneFile === null ? { mode: 0o644 } : {}) }));
    diffs.push(fileDiff(TIMEZONE_FILE, observed.timezoneFile, content));
  }
  if (steps.length || !liveOk) {
    steps.push(exec(['timedatectl', 'set-timezone', '--', want], { id: 'exec:timedatectl set-timezone', title: `timedatectl set-timezone ${want}`, live: true, after: steps.map((s) => s.id) }));
  }
  const changes: Change[] = [];
  if (steps.length) {
    // Name the zone found where the drift is, so the summary says what is wrong.
    const was = !linkOk ? (observed.localtimeIsFile ? 'a copied zone file' : linkZone) : !fileOk ? fileZone : `${observed.live} in timedated`;
    changes.push({
      address: 'timezone',
      kind: 'timezone',
      action: was ? 'update' : 'create',
      risk: risk(observedEntry(observed).entry, want).risk,
      summary: `set the time zone to ${want}${was ? ` (was ${was})` : ''}`,
      diff: diffs.join(''),
      steps,
    });
  }
  return {
    changes,
    observedByAddress: { timezone: { link: observed.link, file: observed.timezoneFile, copy: observed.localtimeIsFile, live: observed.live } },
    managed: ['timezone'],
  };
}

export const timezoneKind: ResourceKind<TimezoneObserved> = {
  name: 'timezone',
  observe: observeTimezone,
  diff: diffTimezone,
};
