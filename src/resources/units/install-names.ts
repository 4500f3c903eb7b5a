import { parseUnitFile } from './unitfile.js';

/** The [Install] keys whose values systemctl turns into link names and directories. */
export const INSTALL_NAME_KEYS = ['WantedBy', 'RequiredBy', 'UpheldBy', 'Alias', 'Also'] as const;

const UNIT_TYPES = 'service|socket|timer|mount|automount|path|target|slice|scope|swap|device';
// systemd's unit name alphabet (unit_name_is_valid): no '/', so no path; '%' for specifiers.
const UNIT_NAME = new RegExp(`^[A-Za-z0-9:_\\\\%@-][A-Za-z0-9:_.\\\\%@-]*\\.(${UNIT_TYPES})$`);

/**
 * Why an [Install] value is not a unit name, or null when it is. A value with `/` or `..` would
 * make `systemctl enable` (and reconcile, which computes the same links) create a link or a
 * directory outside /etc/systemd/system. Checked on the raw value (specifiers allowed) and on
 * the expanded one.
 */
export function installNameProblem(value: string): string | null {
  if (value.length > 255) return 'is longer than a unit name may be (255)';
  if (value.includes('/')) return 'is a path, not a unit name';
  if (!UNIT_NAME.test(value)) return `is not a unit name (NAME.${UNIT_TYPES.split('|').slice(0, 3).join('|')}|...)`;
  return null;
}

/** The [Install] values of a unit file (or drop-in) that are not unit names, with their lines. */
export function badInstallNames(text: string): { line: number; key: string; value: string; problem: string }[] {
  const out: { line: number; key: string; value: string; problem: string }[] = [];
  for (const l of parseUnitFile(text)) {
    if (l.section !== 'Install' || !(INSTALL_NAME_KEYS as readonly string[]).includes(l.key)) continue;
    for (const value of l.value.split(/\s+/).filter(Boolean)) {
      const problem = installNameProblem(value);
      if (problem) out.push({ line: l.line, key: l.key, value, problem });
    }
  }
  return out;
}
