/** Where systemd reads unit files, in its lookup order (Debian: /lib before /usr/lib). */
export const ETC_UNITS = '/etc/systemd/system';
export const VENDOR_UNIT_DIRS = ['/usr/local/lib/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];
/** What reconcile wrote for each unit and which restarts it still owes (see UnitsRecord). */
export const UNITS_RECORD = '/var/lib/reconcile/units.json';

export const addressOf = (name: string) => `units[${name}]`;

/**
 * reconcile's own pull service and timer (`reconcile pull --install-timer`): a spec may not name
 * them, since the repository must not change how (and whether, with which signature check) the
 * host pulls it; they are planned only with the install's own fragment (ValidateOptions.ownUnits).
 */
export const OWN_UNITS: readonly string[] = ['reconcile-pull.service', 'reconcile-pull.timer'];
export const isOwnUnitAddress = (address: string) => OWN_UNITS.some((n) => address === addressOf(n));
export const nameOfAddress = (address: string) => address.slice('units['.length, -1);
export const unitPath = (name: string) => `${ETC_UNITS}/${name}`;
export const dropinDir = (name: string) => `${ETC_UNITS}/${name}.d`;
export const dropinPath = (name: string, file: string) => `${dropinDir(name)}/${file}`;

/** `foo@.service`: a template, which is enabled through DefaultInstance= and never started. */
export const isTemplate = (name: string) => /@\.[a-z]+$/.test(name);

/** `foo@bar.service` -> `foo@.service`; null for a name that is not an instance. */
export function templateOf(name: string): string | null {
  const m = /^([^@]+)@([^@]+)(\.[a-z]+)$/.exec(name);
  return m ? `${m[1]}@${m[3]}` : null;
}

export function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** systemd's UNIT_NAME_MAX, and NAME_MAX for a drop-in's file name. */
export const UNIT_NAME_MAX_BYTES = 255;

/**
 * Why a unit or drop-in file name is too long for systemd or the file system, or null. The
 * characters themselves are the schema's to check (a pattern of unit-name characters).
 */
export function unitFileNameProblem(what: 'unit name' | 'drop-in name', name: string): string | null {
  const bytes = Buffer.byteLength(name);
  return bytes > UNIT_NAME_MAX_BYTES ? `is ${bytes} bytes long; a ${what} is at most ${UNIT_NAME_MAX_BYTES} bytes` : null;
}
