/** What makes a name a time zone: a tzdata file name, and a file in the TZif format. */
export const ZONEINFO = '/usr/share/zoneinfo';

/** Zone names as tzdata spells them: `Europe/Berlin`, `Etc/GMT+5`; no dots (`zone.tab`), no `..`. */
export const ZONE_NAME = /^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/;

/** Every compiled zone starts with the magic `TZif` (tzfile(5)); `leapseconds` and `*.tab` are text. */
export function isZoneData(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x54 && bytes[1] === 0x5a && bytes[2] === 0x69 && bytes[3] === 0x66;
}
