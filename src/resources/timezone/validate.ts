import { closeSync, lstatSync, openSync, readlinkSync, readSync, statSync } from 'node:fs';
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
  const unknown = `is not a zone known to tzdata (see ${ZONEINFO}, e.g. Europe/Berlin)`;
  if (!ZONE_NAME.test(zone)) return unknown;
  const dirs = [path.join(root, ZONEINFO), ZONEINFO];
  for (const dir of dirs) {
    try {
      statSync(dir);
    } catch {
      continue;
    }
    return zoneFileProblem(dir, zone) ?? null;
  }
  return unknown;
}

function zoneFileProblem(dir: string, zone: string): string | undefined {
  const unknown = `is not a zone known to tzdata (see ${ZONEINFO}, e.g. Europe/Berlin)`;
  // Follow links by hand: each must stay inside tzdata (`localtime` leads to /etc/localtime).
  let file = path.join(dir, zone);
  for (let hops = 0; ; hops++) {
    let st;
    try {
      st = lstatSync(file);
    } catch {
      return unknown;
    }
    if (!st.isSymbolicLink()) {
      if (!st.isFile()) return unknown;
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
