import type { Host } from '../../host/host.js';
import type { ObserveContext } from '../types.js';
import { ETC_UNITS, VENDOR_UNIT_DIRS, dropinDir, nameOfAddress, templateOf, unitPath } from './paths.js';
import { parseInstall } from './unitfile.js';
import type { Fragment } from './links.js';
import { parseSystemctlShow, showArgv, type ManagerState } from './show.js';
import { readRecord, type UnitsRecord } from './record.js';
import { isTemplate } from './paths.js';

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
  const [record, links, live, fileEntries] = await Promise.all([
    readRecord(host),
    readLinks(host),
    host.offline ? Promise.resolve(false) : host.exists('/run/systemd/system'),
    Promise.all(names.map(async (n) => [n, await readUnitFiles(host, n)] as const)),
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

async function readUnitFiles(host: Host, name: string): Promise<UnitFiles> {
  const path = unitPath(name);
  const [stat, link, entries] = await Promise.all([host.lstat(path), host.readlink(path), host.readdir(dropinDir(name))]);
  const unit = stat?.type === 'file' ? await host.readText(path) : null;
  const dropins: Record<string, string> = {};
  await Promise.all(
    (entries ?? [])
      .filter((f) => f.endsWith('.conf'))
      .map(async (f) => {
        const text = await host.readText(`${dropinDir(name)}/${f}`);
        if (text !== null) dropins[f] = text;
      }),
  );
  return { unit, unitLink: stat?.type === 'symlink' ? link : null, dropins: Object.fromEntries(Object.entries(dropins).sort(([a], [b]) => a.localeCompare(b))) };
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

async function readLinks(host: Host): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const top = (await host.readdir(ETC_UNITS)) ?? [];
  await Promise.all(
    top.map(async (entry) => {
      const path = `${ETC_UNITS}/${entry}`;
      if (/\.(wants|requires|upholds)$/.test(entry)) {
        for (const inner of (await host.readdir(path)) ?? []) {
          const t = await host.readlink(`${path}/${inner}`);
          if (t !== null) out[`${path}/${inner}`] = t;
        }
      } else {
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
  for (const [path, target] of Object.entries(links).sort(([a], [b]) => a.localeCompare(b))) {
    const base = path.slice(path.lastIndexOf('/') + 1);
    if (wanted.has(base) || files.has(target)) out[path] = target;
  }
  return out;
}
