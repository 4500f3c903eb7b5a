/** The manager properties observed for every unit, in one `systemctl show` call. */
export const SHOW_PROPERTIES = ['LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'NeedDaemonReload', 'FragmentPath', 'DropInPaths', 'MainPID'] as const;

export interface ManagerState {
  loadState: string;
  activeState: string;
  subState: string;
  unitFileState: string;
  needDaemonReload: boolean;
  fragmentPath: string;
  dropInPaths: string[];
  mainPid: number;
}

export function showArgv(names: string[]): string[] {
  return ['systemctl', 'show', '-p', SHOW_PROPERTIES.join(','), '--', ...names];
}

/**
 * `systemctl show -p ... -- a b c` prints one block of `Key=value` lines per unit, in the order
 * the units were named, blocks separated by a blank line. Returns the blocks by unit name; fails
 * when the count does not match (the caller then knows nothing about any unit).
 */
export function parseSystemctlShow(stdout: string, names: string[]): Record<string, ManagerState> {
  const blocks = stdout
    .split(/\n\s*\n/)
    .map((b) => b.trim())
    .filter(Boolean);
  if (blocks.length !== names.length) throw new Error(`systemctl show printed ${blocks.length} blocks for ${names.length} units`);
  const out: Record<string, ManagerState> = {};
  blocks.forEach((block, i) => {
    const kv = new Map<string, string>();
    for (const line of block.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1));
    }
    out[names[i]!] = {
      loadState: kv.get('LoadState') ?? '',
      activeState: kv.get('ActiveState') ?? '',
      subState: kv.get('SubState') ?? '',
      unitFileState: kv.get('UnitFileState') ?? '',
      needDaemonReload: kv.get('NeedDaemonReload') === 'yes',
      fragmentPath: kv.get('FragmentPath') ?? '',
      dropInPaths: (kv.get('DropInPaths') ?? '').split(/\s+/).filter(Boolean),
      mainPid: Number(kv.get('MainPID') ?? 0) || 0,
    };
  });
  return out;
}

export const isRunning = (m: ManagerState) => m.activeState === 'active' || m.activeState === 'reloading';
export const isEnabled = (m: ManagerState) => m.unitFileState === 'enabled' || m.unitFileState === 'enabled-runtime';
/** What `enable` leaves: `indirect` is all a unit whose [Install] has only Also= ever shows. */
export const isEnabledOrIndirect = (m: ManagerState) => isEnabled(m) || m.unitFileState === 'indirect';
export const isMasked = (m: ManagerState) => m.unitFileState === 'masked' || m.unitFileState === 'masked-runtime' || m.loadState === 'masked';
