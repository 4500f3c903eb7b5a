import { ETC_UNITS, basename, isTemplate, templateOf } from './paths.js';
import { expandSpecifiers, type InstallInfo } from './unitfile.js';
import { installNameProblem } from './install-names.js';
import { UserError } from '../../errors.js';

/** A unit file systemd would load for a name: where it is and what its [Install] says. */
export interface Fragment {
  path: string;
  install: InstallInfo;
}

/**
 * The symlinks `systemctl enable NAME` creates under /etc/systemd/system, computed from
 * [Install] as systemctl does (src/shared/install.c): `<target>.wants/NAME` for WantedBy=,
 * `.requires/` for RequiredBy=, `.upholds/` for UpheldBy=, `/etc/systemd/system/ALIAS` for
 * Alias=, each pointing at the unit's file; Also= units are enabled with it. A template is
 * enabled as its DefaultInstance=; an instance links to its template's file.
 * `fragments` gives the file of every name that may be needed (the unit, its template, Also=).
 */
export function enablementLinks(name: string, fragments: Record<string, Fragment | null>, seen = new Set<string>()): Record<string, string> {
  const links: Record<string, string> = {};
  if (seen.has(name)) return links;
  seen.add(name);
  const fragment = fragments[name] ?? (templateOf(name) ? fragments[templateOf(name)!] : null) ?? null;
  if (!fragment) return links;
  let instanceName = name;
  if (isTemplate(name)) {
    if (!fragment.install.defaultInstance) instanceName = '';
    else instanceName = name.replace(/@\./, `@${fragment.install.defaultInstance}.`);
  }
  // The file may be the host's, not the spec's (validated there): a value that is not a unit
  // name would put a link or a directory wherever its path points.
  const unitName = (key: string, value: string, forName: string) => {
    const expanded = expandSpecifiers(value, forName);
    const problem = installNameProblem(expanded);
    if (problem) throw new UserError(`${fragment.path}: [Install] ${key}=${value} ${problem}; not creating a link for it`);
    return expanded;
  };
  if (instanceName) {
    const add = (dir: string, key: string, targets: string[]) => {
      for (const t of targets) links[`${ETC_UNITS}/${unitName(key, t, instanceName)}.${dir}/${instanceName}`] = fragment.path;
    };
    add('wants', 'WantedBy', fragment.install.wantedBy);
    add('requires', 'RequiredBy', fragment.install.requiredBy);
    add('upholds', 'UpheldBy', fragment.install.upheldBy);
    for (const a of fragment.install.alias) {
      const alias = unitName('Alias', a, instanceName);
      // An alias of the unit's own file in /etc would be a link to itself.
      if (`${ETC_UNITS}/${alias}` !== fragment.path) links[`${ETC_UNITS}/${alias}`] = fragment.path;
    }
  }
  for (const also of fragment.install.also) Object.assign(links, enablementLinks(unitName('Also', also, name), fragments, seen));
  return links;
}

/**
 * Whether two link targets name the same unit file: on a merged-/usr system /lib is /usr/lib, and
 * `systemctl enable` may write either, whichever its own unit path lists first.
 */
export function sameUnitFile(a: string | undefined, b: string): boolean {
  const merged = (p: string) => p.replace(/^\/lib\//, '/usr/lib/');
  return a !== undefined && (a === b || merged(a) === merged(b));
}

/**
 * The links `systemctl disable NAME` would remove among those observed: links in a .wants/,
 * .requires/ or .upholds/ directory named like the unit (or one of its aliases), and alias links
 * pointing at its file. Also= units go with it, as in systemctl.
 */
export function linksToRemove(name: string, fragments: Record<string, Fragment | null>, observedLinks: Record<string, string>): string[] {
  const wanted = enablementLinks(name, fragments);
  const names = new Set<string>([name]);
  const files = new Set<string>();
  for (const [link, target] of Object.entries(wanted)) {
    names.add(basename(link));
    files.add(target);
  }
  const own = fragments[name]?.path;
  if (own) files.add(own);
  const out: string[] = [];
  for (const [link, target] of Object.entries(observedLinks)) {
    if (target === '/dev/null') continue; // a mask is not enablement
    const dir = link.slice(0, link.lastIndexOf('/'));
    const inDepDir = /\.(wants|requires|upholds)$/.test(dir);
    // In a dependency directory the link's name says which unit it enables (instances of one
    // template share its file); at the top level an alias is known by what it points at.
    if (inDepDir ? names.has(basename(link)) : files.has(target) && !target.includes('@.')) out.push(link);
    else if (link in wanted) out.push(link);
  }
  return out.sort();
}
