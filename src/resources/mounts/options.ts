import type { DesiredMount, LiveMount, SourceFacts } from './types.js';
import { describeChar } from '../chars.js';
import { idOf } from '../../host/accounts.js';

/**
 * Option normalisation. fstab entries compare as sets (order and `defaults` do not matter);
 * live mounts compare only what the spec asks for, since the kernel adds options of its own
 * (relatime, addr=, clientaddr=, rsize=, …) and echoes others under a different name.
 */

export interface Ids {
  users: Record<string, number>;
  groups: Record<string, number>;
}

export function splitOpt(o: string): [string, string | undefined] {
  const i = o.indexOf('=');
  return i < 0 ? [o, undefined] : [o.slice(0, i), o.slice(i + 1)];
}

/** uid=/gid= (and CIFS forceuid-style cruid=) names to numbers from the root's accounts. */
export function resolveIds(options: string[], ids: Ids): { options: string[]; unknown: string[] } {
  const unknown: string[] = [];
  const out = options.map((o) => {
    const [k, v] = splitOpt(o);
    if (v === undefined || /^\d+$/.test(v)) return o;
    const table = k === 'uid' || k === 'cruid' ? ids.users : k === 'gid' ? ids.groups : undefined;
    if (!table) return o;
    const n = idOf(table, v);
    if (n === undefined) {
      unknown.push(o);
      return o;
    }
    return `${k}=${n}`;
  });
  return { options: out, unknown };
}

/** fstab option sets: order-insensitive, `defaults` dropped. */
export function sameFstabOptions(a: string[], b: string[]): boolean {
  const norm = (x: string[]) => [...new Set(x.filter((o) => o && o !== 'defaults'))].sort().join(',');
  return norm(a) === norm(b);
}

/** Options the kernel never shows in mountinfo: used by mount(8), helpers, or systemd only. */
const INVISIBLE = new Set([
  'defaults', 'auto', 'noauto', 'user', 'nouser', 'users', 'owner', 'group', 'nofail', '_netdev',
  'loop', 'bind', 'rbind', 'remount', 'intr', 'nointr', 'bg', 'fg', 'exec', 'suid', 'dev', 'async',
  'rw', 'atime', 'diratime', 'nomand', 'credentials', 'password', 'pass', 'username', 'user', 'domain',
  'dom', 'workgroup', 'retry', 'offset', 'sizelimit', 'encryption', 'x-mount.mkdir', 'helper',
  'iversion', 'noiversion', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave',
]);

/** Per-mount flags: the negative one is shown when set, the positive one is the default. */
const FLAG_PAIRS: Array<[neg: string, pos: string]> = [
  ['ro', 'rw'],
  ['noexec', 'exec'],
  ['nosuid', 'suid'],
  ['nodev', 'dev'],
  ['sync', 'async'],
  ['mand', 'nomand'],
  ['nodiratime', 'diratime'],
];
const ATIME = new Set(['noatime', 'relatime', 'strictatime', 'atime']);
/** These options change only per-mount flags: a remount changes them on any filesystem. */
export const PER_MOUNT_FLAGS = new Set([...FLAG_PAIRS.flat(), ...ATIME, 'lazytime', 'nolazytime']);

function canonical(o: string): [string, string | undefined] {
  if (o === 'tcp' || o === 'udp' || o === 'rdma') return ['proto', o];
  const [k, v] = splitOpt(o);
  if (k === 'nfsvers') return ['vers', v];
  return [k, v];
}

const SIZE_UNITS: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5, e: 6 };
function sizeBytes(v: string): number | null {
  const m = /^(\d+)([kmgtpe])?$/i.exec(v);
  if (!m) return null;
  return Number(m[1]) * 1024 ** (m[2] ? SIZE_UNITS[m[2].toLowerCase()]! : 0);
}

function sameValue(key: string, want: string, have: string): boolean {
  if (want === have) return true;
  if (key === 'vers') {
    // nfsvers=4 negotiates 4.x; CIFS shows 3.0 for 3 (and 3.1.1 for 3.1.1).
    return have.startsWith(want + '.') || have.replace(/(\.0)+$/, '') === want.replace(/(\.0)+$/, '');
  }
  if (/mode$/.test(key) && /^[0-7]+$/.test(want) && /^[0-7]+$/.test(have)) return parseInt(want, 8) === parseInt(have, 8);
  if (key === 'size' || key === 'nr_inodes' || key === 'nr_blocks') {
    const a = sizeBytes(want);
    return a !== null && a === sizeBytes(have);
  }
  return false;
}

/** Flags implied by mount(8) options that are themselves invisible. */
function implied(desired: string[]): string[] {
  const out: string[] = [];
  if (desired.includes('user') || desired.includes('users')) out.push('noexec', 'nosuid', 'nodev');
  if (desired.includes('owner') || desired.includes('group')) out.push('nosuid', 'nodev');
  return out;
}

export interface OptionDrift {
  /** Desired options the live mount lacks (as the spec writes them). */
  missing: string[];
  /** Live flags the spec does not want, as the option that clears them (`exec` for a live `noexec`). */
  clear: string[];
}

/**
 * Options the kernel does not show in mountinfo when they hold its default, per filesystem type:
 * absent there means this value, so a spec that spells the default out is in sync (`mode=1777`
 * on a tmpfs). Each was mounted spelled out on Linux 6.x and checked to be hidden
 * (test/mount-defaults.test.ts). Superblock-dependent defaults (ext4's errors=, acl, user_xattr,
 * resuid=) are left out: there absence means "whatever the superblock says", not a known value.
 */
export const KERNEL_DEFAULT_OPTIONS: Record<string, readonly string[]> = {
  tmpfs: ['mode=1777', 'uid=0', 'gid=0', 'size=50%', 'huge=never', 'mpol=default'],
  ext4: [
    'data=ordered', 'barrier', 'barrier=1', 'commit=5', 'delalloc', 'auto_da_alloc', 'block_validity', 'dioread_nolock',
    'init_itable=10', 'inode_readahead_blks=32', 'journal_ioprio=3', 'max_batch_time=15000', 'min_batch_time=0',
    'noquota', 'stripe=0', 'nodiscard', 'i_version',
  ],
};

/** Whether a desired option the live mount does not show is the kernel's default for this type. */
export function isKernelDefault(fsType: string, option: string): boolean {
  const defaults = KERNEL_DEFAULT_OPTIONS[fsType];
  if (!defaults) return false;
  const [k, v] = splitOpt(option);
  return defaults.some((d) => {
    const [dk, dv] = splitOpt(d);
    return dk === k && (dv === v || (dv !== undefined && v !== undefined && sameValue(k, v, dv)));
  });
}

export function liveOptionDrift(desired: string[], live: Pick<LiveMount, 'mountOptions' | 'superOptions'> & { fsType?: string }): OptionDrift {
  const liveOpts = new Map<string, string | undefined>();
  for (const o of [...live.mountOptions, ...live.superOptions]) {
    const [k, v] = canonical(o);
    liveOpts.set(k, v);
  }
  const effective = [...implied(desired), ...desired];
  const missing: string[] = [];
  for (const o of desired) {
    const [k, v] = canonical(o);
    if (INVISIBLE.has(k) || k.startsWith('x-') || k === 'comment') continue;
    if (FLAG_PAIRS.some(([neg]) => neg === k) || k === 'lazytime') {
      if (!liveOpts.has(k)) missing.push(o);
      continue;
    }
    if (ATIME.has(k)) {
      const liveAtime = liveOpts.has('noatime') ? 'noatime' : liveOpts.has('relatime') ? 'relatime' : 'strictatime';
      if ((k === 'atime' ? 'strictatime' : k) !== liveAtime) missing.push(o);
      continue;
    }
    if (!liveOpts.has(k)) {
      if (!isKernelDefault(live.fsType ?? '', o)) missing.push(o);
      continue;
    }
    const have = liveOpts.get(k);
    if (v !== undefined && (have === undefined || !sameValue(k, v, have))) missing.push(o);
  }
  const clear: string[] = [];
  for (const [neg, pos] of FLAG_PAIRS) {
    if (liveOpts.has(neg) && !effective.includes(neg)) clear.push(pos);
  }
  return { missing, clear };
}

export function isBind(options: string[]): boolean {
  return options.includes('bind') || options.includes('rbind');
}

const NETWORK = new Set(['nfs', 'nfs4', 'cifs', 'smb3']);
export function isNetwork(type: string): boolean {
  return NETWORK.has(type);
}

function sameType(want: string, have: string): boolean {
  const family = (t: string) => (t === 'nfs4' ? 'nfs' : t === 'smb3' ? 'cifs' : t);
  return want === 'auto' || family(want) === family(have);
}

/** Source paths that are host files (bind sources, loop images), resolved under --root. */
export function isHostPathSource(m: Pick<DesiredMount, 'source'>): boolean {
  // `//server/share` is CIFS, `/dev/…` is the machine's own: neither lives under --root.
  return m.source.startsWith('/') && !m.source.startsWith('//') && !m.source.startsWith('/dev/');
}

export function isTagSource(source: string): boolean {
  return /^(UUID|LABEL|PARTUUID|PARTLABEL)=/.test(source);
}

/** Whether the live mount is of the desired source and type (then only options may differ). */
export function sameSourceAndType(want: DesiredMount, live: LiveMount, facts: Partial<SourceFacts>): boolean {
  if (isBind(want.options) || want.type === 'none') {
    const b = facts.bindSources?.[want.source];
    return !b || (b.majmin === live.majmin && b.root === live.root);
  }
  if (!sameType(want.type, live.fsType)) return false;
  if (live.source.startsWith('/dev/loop') && isHostPathSource(want)) {
    const backing = facts.loopBacking?.[live.source];
    return backing === undefined || backing === want.source;
  }
  if (isTagSource(want.source)) {
    const dev = facts.tags?.[want.source];
    // An unresolvable tag is not a reason to unmount what is there.
    return dev === undefined || dev === null || dev === live.source;
  }
  const trim = (s: string) => s.replace(/\/+$/, '');
  if (isNetwork(want.type) && (want.type === 'cifs' || want.type === 'smb3')) {
    return trim(want.source).toLowerCase() === trim(live.source).toLowerCase();
  }
  return trim(want.source) === trim(live.source);
}

/**
 * Why a string cannot be one mount option, or null when it can. libmount splits the option string
 * at commas and treats double quotes as quoting (an unbalanced one swallows the options after
 * it), and the kernel gets the rest verbatim.
 */
export function mountOptionProblem(option: string): string | null {
  const what = 'a mount option is printable characters without blanks, commas or double quotes, such as noatime or size=64m';
  if (option === '') return `is empty; ${what}`;
  const bad = /[\x00-\x20\x7f,"]/.exec(option);
  if (!bad) return null;
  return `holds ${describeChar(bad[0])}; ${what}`;
}
