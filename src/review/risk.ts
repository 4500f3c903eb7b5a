import { PG_SETTING_CONTEXTS } from './pg-setting-contexts.js';
import { isDeepStrictEqual } from 'node:util';
import { maxRisk, type Risk } from '../plan/types.js';
import type { ExportSpec, HostSpec, MigrationsSpec, PostgresSpec, UnitSpec } from '../spec/types.js';
import type { MountSpec } from '../resources/mounts/types.js';

/**
 * The risk a spec change carries, judged from the spec alone (no host): one pure function per
 * kind of (old entry, new entry), undefined meaning absent on that side. Where the host's state
 * would decide (is the unit running?), the answer is the worse case, said in the reasons.
 */
export interface Assessed {
  risk: Risk;
  reasons: string[];
}

export type RiskFn<T> = (before: T | undefined, after: T | undefined) => Assessed;

const at = (risk: Risk, ...reasons: string[]): Assessed => ({ risk, reasons });

/** The worst of several findings, every reason kept. */
function worst(found: Assessed[]): Assessed {
  if (!found.length) return at('none');
  return { risk: maxRisk(found.map((f) => f.risk)), reasons: found.flatMap((f) => f.reasons) };
}

/** ExecStart lines of a unit file, to name the change a reviewer cares about most. */
function execStart(content: string | undefined): string[] {
  return (content ?? '').split('\n').filter((l) => /^\s*ExecStart\s*=/.test(l)).map((l) => l.trim());
}

export const unitRisk: RiskFn<UnitSpec> = (b, a) => {
  // Added: a new unit only starts; managing an existing unit's drop-ins restarts it if running.
  if (!b && a) {
    if (a.masked) return at('disruptive', 'masked: stopped if running');
    if (a.state === 'stopped' || a.state === 'absent') return at('disruptive', `state ${a.state}: stopped if running`);
    if (!a.content && a.dropins && Object.keys(a.dropins).length) return at('restart', 'drop-ins added to an existing unit: restarted if running');
    return at('none', a.state === 'running' ? 'new unit, started' : 'new unit');
  }
  // Removed: reconcile takes back the unit file and its enablement.
  if (b && !a) {
    if (b.content || b.state === 'running') return at('disruptive', 'unit leaves the spec: its file and enablement are removed, it stops');
    return at('none', 'unit leaves the spec');
  }
  if (!b || !a) return at('none');
  const found: Assessed[] = [];
  if (b.state !== a.state && (a.state === 'stopped' || a.state === 'absent')) found.push(at('disruptive', `state ${b.state ?? 'unmanaged'} -> ${a.state}: stopped`));
  if (!b.masked && a.masked) found.push(at('disruptive', 'masked: stopped'));
  const contentChanged = b.content !== a.content;
  const dropinsChanged = !isDeepStrictEqual(b.dropins ?? {}, a.dropins ?? {});
  if ((contentChanged || dropinsChanged) && a.state !== 'stopped' && a.state !== 'absent') {
    const what = [
      ...(contentChanged && !isDeepStrictEqual(execStart(b.content), execStart(a.content)) ? ['ExecStart changed'] : contentChanged ? ['unit file changed'] : []),
      ...(dropinsChanged ? ['drop-ins changed'] : []),
    ].join(', ');
    const running = a.state === 'running' ? 'running' : 'if running';
    found.push(a.onChange === 'reload' ? at('reload', `${what}: reloaded (${running})`) : at('restart', `${what}: restarted (${running})`));
  }
  // The same risks the units kind plans for these actions.
  if (b.state !== a.state && a.state === 'running') found.push(at('reload', 'started'));
  if (b.enabled !== a.enabled) found.push(a.enabled ? at('reload', 'enabled at boot') : at('disruptive', 'disabled at boot'));
  if (b.masked && !a.masked) found.push(at('none', 'unmasked'));
  return found.length ? worst(found) : at('none', 'changed');
};

export const mountRisk: RiskFn<MountSpec> = (b, a) => {
  const mounted = (m: MountSpec) => (m.state ?? 'mounted') === 'mounted';
  if (!b && a) return a.state === 'absent' || a.state === 'unmounted' ? at('disruptive', `state ${a.state}: unmounted if mounted`) : at('none', mounted(a) ? 'new mount, mounted' : 'new fstab line');
  if (b && !a) return mounted(b) ? at('disruptive', 'mount leaves the spec: unmounted and its fstab line removed') : at('none', 'fstab line removed');
  if (!b || !a) return at('none');
  const found: Assessed[] = [];
  if (mounted(b) && (a.state === 'unmounted' || a.state === 'absent')) found.push(at('disruptive', `state ${a.state}: unmounted`));
  if (b.source !== a.source || b.type !== a.type) found.push(at(mounted(a) ? 'disruptive' : 'none', `${b.source !== a.source ? 'source' : 'type'} changed: unmounted and mounted again`));
  if (!isDeepStrictEqual(b.options ?? [], a.options ?? [])) found.push(at(mounted(a) ? 'reload' : 'none', 'options changed: remounted in place'));
  if (!isDeepStrictEqual(b.credentials, a.credentials)) found.push(at('none', 'credentials file rewritten'));
  return found.length ? worst(found) : at('none', 'changed');
};

export const exportRisk: RiskFn<ExportSpec> = (b, a) => {
  if (!b && a) return a.state === 'absent' ? at('disruptive', 'state absent: clients lose access') : at('reload', 'new export: exportfs -ra');
  if (b && !a) return at('disruptive', 'export leaves the spec: clients lose access');
  if (!b || !a) return at('none');
  if (a.state === 'absent' && b.state !== 'absent') return at('disruptive', 'state absent: clients lose access');
  const found: Assessed[] = [];
  const hosts = (e: ExportSpec) => new Set((e.clients ?? []).map((c) => c.host));
  const gone = [...hosts(b)].filter((h) => !hosts(a).has(h));
  if (gone.length) found.push(at('disruptive', `clients lose access: ${gone.join(', ')}`));
  if (!isDeepStrictEqual(b.clients, a.clients)) found.push(at('reload', 'clients or options changed: exportfs -ra'));
  if (!isDeepStrictEqual(b.directory, a.directory)) found.push(at('none', 'directory owner or mode changed'));
  return found.length ? worst(found) : at('none', 'changed');
};

export const nfsServerRisk: RiskFn<HostSpec['nfsServer']> = (b, a) =>
  b?.mountdPort !== a?.mountdPort ? at('restart', 'mountd port changed: NFS server restarted') : at('none', 'changed');

export const timezoneRisk: RiskFn<string> = (b, a) => at('none', `time zone ${b ?? 'unmanaged'} -> ${a ?? 'unmanaged'}`);

/**
 * Whether a setting needs a server restart (context `postmaster`), from PostgreSQL's own table;
 * a setting it does not know is judged the worse way (a restart), since review has no server.
 */
export function needsRestartSetting(name: string): boolean {
  const context = PG_SETTING_CONTEXTS[name];
  return context === undefined || context === 'postmaster' || context === 'internal';
}

export const postgresRisk: RiskFn<PostgresSpec> = (b, a) => {
  if (b && !a) return at('none', 'postgres leaves the spec: nothing is removed (roles and data are never removed implicitly)');
  const before: Partial<PostgresSpec> = b ?? {};
  if (!a) return at('none');
  const found: Assessed[] = [];
  if (b && !isDeepStrictEqual(b.instance, a.instance)) found.push(at('disruptive', 'instance changed: another cluster is managed'));
  if (b && b.role === 'primary' && a.role === 'standby') found.push(at('destructive', 'primary -> standby: the data directory is rebuilt from the primary'));
  if (b && b.role === 'standby' && a.role === 'primary') found.push(at('disruptive', 'standby -> primary: promoted'));
  if (!b && a.role === 'standby') found.push(at('destructive', 'standby: rebuilt from the primary unless it already follows it'));
  if (b?.role === 'standby' && a.role === 'standby' && b.primary?.host !== a.primary?.host) found.push(at('destructive', `primary host ${b.primary?.host} -> ${a.primary?.host}: standby rebuilt`));
  else if (b?.role === 'standby' && a.role === 'standby' && !isDeepStrictEqual(b.primary, a.primary)) found.push(at('reload', 'primary connection changed: reloaded'));
  const keys = new Set([...Object.keys(before.settings ?? {}), ...Object.keys(a.settings ?? {})]);
  const changed = [...keys].filter((k) => !isDeepStrictEqual(before.settings?.[k], a.settings?.[k])).sort();
  const restart = changed.filter(needsRestartSetting);
  if (restart.length) found.push(at('restart', `settings needing a restart: ${restart.join(', ')}`));
  if (changed.length > restart.length) found.push(at('reload', `settings reloaded: ${changed.filter((k) => !needsRestartSetting(k)).join(', ')}`));
  if (!isDeepStrictEqual(before.hba, a.hba)) found.push(at('reload', 'pg_hba.conf changed: reloaded'));
  if (!isDeepStrictEqual(before.users, a.users)) found.push(at('none', 'roles changed'));
  const goneSlots = (before.slots ?? []).filter((s) => !(a.slots ?? []).includes(s));
  if (goneSlots.length) found.push(at('disruptive', `replication slots dropped: ${goneSlots.join(', ')} (a standby using one breaks)`));
  if (before.restoreCommand !== a.restoreCommand) found.push(at('reload', 'restore_command changed'));
  return found.length ? worst(found) : at('none', b ? 'changed' : 'postgres managed');
};

/** Natural order of migration ids: 0002 < 0010, 20240101_x < 20240202_y. */
function compareIds(x: string, y: string): number {
  return x.localeCompare(y, 'en', { numeric: true });
}

export const migrationsRisk: RiskFn<MigrationsSpec> = (b, a) => {
  if (!b && a) return at('none', `migrations run up to ${a.target ?? 'head'}`);
  if (b && !a) return at('none', 'migrations leave the spec: applied migrations are never reverted implicitly');
  if (!b || !a) return at('none');
  const found: Assessed[] = [];
  const [from, to] = [b.target ?? 'head', a.target ?? 'head'];
  if (from !== to) {
    if (to !== 'head' && (from === 'head' || compareIds(to, from) < 0)) found.push(at('destructive', `target ${from} -> ${to}: a downgrade`));
    else found.push(at('none', `target ${from} -> ${to}: upgrade`));
  }
  if (!isDeepStrictEqual(b.database, a.database)) found.push(at('none', 'database changed'));
  if (b.dir !== a.dir) found.push(at('none', 'migrations directory changed'));
  return found.length ? worst(found) : at('none', 'changed');
};

const settingRisk: RiskFn<unknown> = () => at('none', 'setting changed');

/** A spec's resources by the planner's addresses, each with the function that judges its change. */
export function entriesOf(spec: HostSpec | undefined): Map<string, { kind: string; value: unknown; risk: RiskFn<any> }> {
  const out = new Map<string, { kind: string; value: unknown; risk: RiskFn<any> }>();
  if (!spec) return out;
  const trim = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);
  if (spec.timezone !== undefined) out.set('timezone', { kind: 'timezone', value: spec.timezone, risk: timezoneRisk });
  for (const e of spec.exports ?? []) out.set(`exports[${trim(e.path)}]`, { kind: 'exports', value: e, risk: exportRisk });
  if (spec.nfsServer !== undefined) out.set('nfsServer', { kind: 'nfsServer', value: spec.nfsServer, risk: nfsServerRisk });
  for (const m of spec.mounts ?? []) out.set(`mounts[${trim(m.path)}]`, { kind: 'mounts', value: m, risk: mountRisk });
  for (const u of spec.units ?? []) out.set(`units[${u.name}]`, { kind: 'units', value: u, risk: unitRisk });
  if (spec.postgres !== undefined) out.set('postgres', { kind: 'postgres', value: spec.postgres, risk: postgresRisk });
  for (const m of spec.migrations ?? []) out.set(`migrations[${m.name}]`, { kind: 'migrations', value: m, risk: migrationsRisk });
  for (const key of ['lock', 'watchdog', 'ignoreDrift'] as const) if (spec[key] !== undefined) out.set(key, { kind: 'settings', value: spec[key], risk: settingRisk });
  return out;
}

export interface ReviewedChange {
  address: string;
  kind: string;
  change: 'added' | 'removed' | 'changed';
  risk: Risk;
  reasons: string[];
}

/** Every resource added, removed or changed between two versions of a spec, with its risk. */
export function reviewSpecs(before: HostSpec | undefined, after: HostSpec | undefined): ReviewedChange[] {
  const b = entriesOf(before);
  const a = entriesOf(after);
  const out: ReviewedChange[] = [];
  for (const address of new Set([...b.keys(), ...a.keys()])) {
    const x = b.get(address);
    const y = a.get(address);
    if (x && y && isDeepStrictEqual(x.value, y.value)) continue;
    const entry = (y ?? x)!;
    const { risk, reasons } = entry.risk(x?.value, y?.value);
    out.push({ address, kind: entry.kind, change: !x ? 'added' : !y ? 'removed' : 'changed', risk, reasons });
  }
  return out;
}
