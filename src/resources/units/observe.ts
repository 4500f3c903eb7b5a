import type { Host } from '../../host/host.js';
import type { ObserveContext } from '../types.js';
import { ETC_UNITS, VENDOR_UNIT_DIRS, dropinDir, isTemplate, nameOfAddress, templateOf, unitPath } from './paths.js';
import { parseInstall } from './unitfile.js';
import type { Fragment } from './links.js';
import { parseSystemctlShow, showArgv, type ManagerState } from './show.js';
import { readRecord, type UnitsRecord } from './record.js';

export interface UnitFiles {
  /** /etc/systemd/system/NAME as text when it is a regular file. */
  unit: string | null;
  /** Its target when /etc/systemd/system/NAME is a symlink (a mask: /dev/null, or an alias). */
  unitLink: string | null;
  /** The drop-ins in /etc/systemd/system/NAME.d, by file name. */
  dropins: Record<string, string>;
}

export interface UnitsObserved {
  /** The systemd manager was asked (a live host with systemd running). */
  live: boolean;
  files: Record<string, UnitFiles>;
  /** The file systemd would load for each name (the units, their templates, their Also= units). */
  fragments: Record<string, Fragment | null>;
  /** Symlinks in /etc/systemd/system and its .wants/.requires/.upholds directories, path -> target. */
  links: Record<string, string>;
  /** The manager's view of each unit (live only). */
  manager: Record<string, ManagerState>;
  managerError?: string;
  record: UnitsRecord;
}

/**
 * One pass over /etc/systemd/system, the files of each unit of the spec (or owned), and on a
 * live host ONE `systemctl show` for all of them.
 */
export async function observeUnits(ctx: ObserveContext): Promise<UnitsObserved> {
  const { host, spec } = ctx;
  const specUnits = spec.units ?? [];
  const names = [...new Set([...specUnits.map((u) => u.name), ...ctx.owned.map(nameOfAddress)])];
  const empty: UnitsObserved = { live: false, files: {}, fragments: {}, links: {}, manager: {}, record: { formatVersion: 1, units: {} } };
  if (names.length === 0) return empty;
  // One listing of /etc/systemd/system says which units have a file, a link or a drop-in
  // directory there, so nothing is stat'ed, read or listed that is not there.
  const etc = new Map(((await host.list(ETC_UNITS)) ?? []).map((e) => [e.name, e.type]));
  const [record, links, live, fileEntries] = await Promise.all([
    readRecord(host),
    readLinks(host, etc),
    host.offline ? Promise.resolve(false) : host.exists('/run/systemd/system'),
    Promise.all(names.map(async (n) => [n, await readUnitFiles(host, n, etc)] as const)),
  ]);
  const files = Object.fromEntries(fileEntries);

  // Fragments: the unit (the spec's content wins over what is on disk), its template, Also= units.
  const fragments: Record<string, Fragment | null> = {};
  const want = new Set<string>();
  for (const n of names) {
    want.add(n);
    const t = templateOf(n);
    if (t) want.add(t);
  }
  const contentOf = new Map(specUnits.filter((u) => u.content !== undefined && u.state !== 'absent').map((u) => [u.name, u.content!]));
  const load = async (n: string) => {
    if (n in fragments) return;
    const own = contentOf.get(n);
    fragments[n] = own !== undefined ? { path: unitPath(n), install: parseInstall(own) } : await findFragment(host, n, files[n]);
  };
  await Promise.all([...want].map(load));
  const also = Object.values(fragments).flatMap((f) => f?.install.also ?? []);
  await Promise.all(also.map(load));

  const observed: UnitsObserved = { live, files, fragments, links: relevantLinks(links, names, fragments), manager: {}, record };
  if (live) {
    const shown = names.filter((n) => !isTemplate(n));
    if (shown.length) {
      const r = await host.exec(showArgv(shown), { timeoutMs: 20_000, describe: 'read the state of the units from systemd' });
      if (!r.ok) observed.managerError = r.failedToStart ? 'systemctl is not installed' : r.stderr.trim() || `exit ${r.exitCode}`;
      else {
        try {
          observed.manager = parseSystemctlShow(r.stdout, shown);
        } catch (e) {
          observed.managerError = (e as Error).message;
        }
      }
    }
  }
  return observed;
}

async function readUnitFiles(host: Host, name: string, etc: Map<string, string>): Promise<UnitFiles> {
  const path = unitPath(name);
  const type = etc.get(name);
  const [unit, link, entries] = await Promise.all([
    type === 'file' ? host.readText(path) : null,
    type === 'symlink' ? host.readlink(path) : null,
    etc.get(`${name}.d`) === 'dir' ? host.readdir(dropinDir(name)) : null,
  ]);
  const dropins: Record<string, string> = {};
  await Promise.all(
    (entries ?? [])
      .filter((f) => f.endsWith('.conf'))
      .map(async (f) => {
        const text = await host.readText(`${dropinDir(name)}/${f}`);
        if (text !== null) dropins[f] = text;
      }),
  );
  // Byte order, as systemd applies drop-ins (and no ICU collator, which costs tens of ms to build).
  return { unit, unitLink: link, dropins: Object.fromEntries(Object.entries(dropins).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
}

/** The first regular file for a name along systemd's lookup path (a mask is no fragment). */
async function findFragment(host: Host, name: string, files: UnitFiles | undefined): Promise<Fragment | null> {
  for (const dir of [ETC_UNITS, ...VENDOR_UNIT_DIRS]) {
    const path = `${dir}/${name}`;
    const text = dir === ETC_UNITS && files ? files.unit : (await host.lstat(path))?.type === 'file' ? await host.readText(path) : null;
    if (text !== null) return { path, install: parseInstall(text) };
  }
  return null;
}

async function readLinks(host: Host, etc: Map<string, string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  await Promise.all(
    [...etc].map(async ([entry, type]) => {
      const path = `${ETC_UNITS}/${entry}`;
      if (type === 'dir' && /\.(wants|requires|upholds)$/.test(entry)) {
        for (const inner of (await host.list(path)) ?? []) {
          if (inner.type !== 'symlink') continue;
          const t = await host.readlink(`${path}/${inner.name}`);
          if (t !== null) out[`${path}/${inner.name}`] = t;
        }
      } else if (type === 'symlink') {
        const t = await host.readlink(path);
        if (t !== null) out[path] = t;
      }
    }),
  );
  return out;
}

/** Only the links that name or point at a unit of interest: the plan's digest stays per unit. */
function relevantLinks(links: Record<string, string>, names: string[], fragments: Record<string, Fragment | null>): Record<string, string> {
  const files = new Set(Object.values(fragments).flatMap((f) => (f ? [f.path] : [])));
  const wanted = new Set([...names, ...Object.keys(fragments)]);
  for (const f of Object.values(fragments)) for (const a of f?.install.alias ?? []) wanted.add(a);
  const out: Record<string, string> = {};
  // Byte order: only needs to be stable, and an ICU collator costs tens of ms to build.
  for (const [path, target] of Object.entries(links).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const base = path.slice(path.lastIndexOf('/') + 1);
    if (wanted.has(base) || files.has(target)) out[path] = target;
  }
  return out;
}
