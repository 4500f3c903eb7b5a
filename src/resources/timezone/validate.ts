import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, statSync } from 'node:fs';
import { closest } from '../../distance.js';
import * as path from 'node:path';
import type { Diagnostic } from '../../errors.js';
import { diagnosticAt, type LoadedSpec } from '../../spec/load.js';
import type { ValidateOptions } from '../../spec/types.js';
import { isZoneData, ZONE_NAME, ZONEINFO } from './zone.js';

/** `timezone:` names a zone of the root's tzdata (the running system's when the root has none). */
export function validate(spec: LoadedSpec, options: ValidateOptions): Diagnostic[] {
  const zone = spec.value.timezone;
  if (zone === undefined) return [];
  const why = notAZone(zone, options.root);
  return why === null ? [] : [diagnosticAt(spec, ['timezone'], `timezone: "${zone}" ${why}`)];
}

/** Null for a zone; else why not. */
export function notAZone(zone: string, root = '/'): string | null {
  const dirs = [path.join(root, ZONEINFO), ZONEINFO];
  for (const dir of dirs) {
    try {
      statSync(dir);
    } catch {
      continue;
    }
    if (!ZONE_NAME.test(zone)) return unknownZone(dir, zone);
    return zoneFileProblem(dir, zone) ?? null;
  }
  return `is not a zone known to tzdata (the host has no ${ZONEINFO})`;
}

/** "is not a zone known to tzdata; did you mean Asia/Shanghai?": the nearest zone of this tzdata, by edit distance. */
function unknownZone(dir: string, zone: string): string {
  const guess = closestZone(zone, zoneNames(dir));
  return `is not a zone known to tzdata (${ZONEINFO})${guess ? `; did you mean ${guess}?` : ''}`;
}

/** The zone nearest `zone` by its whole name or by its city alone ("Shanghai", "europe/berln"). */
export function closestZone(zone: string, names: string[]): string | undefined {
  const cityOf = (n: string) => n.split('/').at(-1)!;
  const city = cityOf(zone);
  const sameCity = names.find((n) => cityOf(n).toLowerCase() === city.toLowerCase());
  if (sameCity && !zone.includes('/')) return sameCity;
  const full = closest(zone, names, Math.max(2, Math.floor(zone.length / 4)));
  if (full) return full;
  const byCity = closest(city, names.map(cityOf), Math.max(2, Math.floor(city.length / 4)));
  return byCity === undefined ? undefined : names.find((n) => cityOf(n) === byCity);
}

/** Zone names of a tzdata directory (its region folders; not the posix/ and right/ copies, nor its tables). */
function zoneNames(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const name = rel ? `${rel}/${e.name}` : e.name;
      // Zones and regions are capitalised; posix/, right/, the .tab tables and posixrules are not.
      if (!/^[A-Z]/.test(e.name)) continue;
      if (e.isDirectory()) {
        if (depth < 3) walk(name, depth + 1);
      } else if (ZONE_NAME.test(name) && !e.name.includes('.')) out.push(name);
    }
  };
  walk('', 0);
  return out.sort();
}

function zoneFileProblem(dir: string, zone: string): string | undefined {
  // Follow links by hand: each must stay inside tzdata (`localtime` leads to /etc/localtime).
  let file = path.join(dir, zone);
  for (let hops = 0; ; hops++) {
    let st;
    try {
      st = lstatSync(file);
    } catch {
      return unknownZone(dir, zone);
    }
    if (!st.isSymbolicLink()) {
      if (!st.isFile()) return unknownZone(dir, zone);
      break;
    }
    const target = readlinkSync(file);
    // An absolute target is a path of the host whose tzdata this is; a relative one, of the link's folder.
    const next = target.startsWith('/') ? (target.startsWith(`${ZONEINFO}/`) ? path.join(dir, target.slice(ZONEINFO.length)) : null) : path.resolve(path.dirname(file), target);
    if (hops > 16 || next === null || !next.startsWith(`${dir}/`)) return `leads out of tzdata (${zone} -> ${target}): not a zone`;
    file = next;
  }
  const head = Buffer.alloc(4);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  return isZoneData(head) ? undefined : 'is a file of tzdata but not a zone (no TZif data)';
}
