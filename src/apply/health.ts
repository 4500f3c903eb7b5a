/**
 * The health gate a rollout slot waits for before it is given back (DESIGN §8.4 rule 4): the
 * units the plan started or restarted stay `active` with `NRestarts` unchanged for `stableFor`
 * (a restart, a failure, a stop or a wait for an automatic restart fails it at once),
 * a PostgreSQL the plan changed accepts connections (a standby also streams), and the optional `health.command` (argv) and `health.http` succeed, all within `timeout`.
 * Only on a live host: under --root the caller skips it.
 */
import { parseDuration } from '../duration.js';
import type { Host } from '../host/host.js';
import type { Plan } from '../plan/types.js';
import type { HostSpec } from '../spec/types.js';
import { sleep } from '../locks/wait.js';
import { psqlLocal, resolveInstance } from '../resources/postgres/instance.js';
import { parsePortFromConf } from '../resources/postgres/observe.js';
import { addressOf } from '../resources/units/paths.js';

export interface HealthConfig {
  stableFor?: string;
  timeout?: string;
  command?: string[];
  http?: string;
  /** Several groups' commands and URLs together. */
  commands?: string[][];
  urls?: string[];
}

const DEFAULT_STABLE_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const POLL_MS = 1_000;

/** undefined when the gate passed, else why it failed. */
export async function healthGate(host: Host, plan: Plan, spec: HostSpec, cfg: HealthConfig): Promise<string | undefined> {
  const stableMs = (cfg.stableFor ? parseDuration(cfg.stableFor) : undefined) ?? DEFAULT_STABLE_MS;
  const deadline = performance.now() + ((cfg.timeout ? parseDuration(cfg.timeout) : undefined) ?? DEFAULT_TIMEOUT_MS);
  const units = unitsToWatch(plan, spec);
  const commands = cfg.commands ?? (cfg.command ? [cfg.command] : []);
  const urls = cfg.urls ?? (cfg.http ? [cfg.http] : []);
  const postgres = !!spec.postgres && plan.changes.some((c) => c.kind === 'postgres');

  // NRestarts as first read for each unit: any change after it is a restart while watched.
  const baseline = new Map<string, UnitHealth>();
  let stableSince: number | undefined;
  let why = 'not checked yet';
  while (performance.now() < deadline) {
    why = '';
    if (units.length) {
      const now = await readUnits(host, units);
      for (const u of units) {
        const h = now.get(u);
        if (!h) {
          why ||= `${u} could not be read (systemctl show)`;
          continue;
        }
        if (!baseline.has(u)) baseline.set(u, h);
        const b = baseline.get(u)!;
        if (h.restarts !== b.restarts) return `${u} restarted while it was watched (NRestarts ${b.restarts} -> ${h.restarts})`;
        // The re-observation saw it running: stopped, failed, or dead and waiting for its
        // automatic restart (a crash loop between two reads of NRestarts) is final, not slow.
        if (h.active === 'failed' || h.active === 'inactive' || h.sub.startsWith('auto-restart')) return `${u} is ${h.active} (${h.sub}${h.result && h.result !== 'success' ? `, result ${h.result}` : ''}) while it was watched`;
        if (h.active !== 'active') why ||= `${u} is ${h.active} (${h.sub})`;
      }
    }
    if (!why && postgres) why = await postgresCheck(host, spec);
    for (const argv of commands) {
      if (why) break;
      const r = await host.exec(argv, { timeoutMs: Math.max(1_000, Math.min(30_000, deadline - performance.now())), describe: 'health.command' });
      if (!r.ok) why = `health.command ${JSON.stringify(argv)} exited ${r.exitCode ?? r.signal}`;
    }
    for (const url of urls) {
      if (why) break;
      why = await httpCheck(url);
    }
    if (why) stableSince = undefined;
    else {
      stableSince ??= performance.now();
      if ((!units.length && !postgres) || performance.now() - stableSince >= stableMs) return undefined;
    }
    await sleep(POLL_MS);
  }
  return `not healthy within the health timeout: ${why}`;
}

/** Units of the plan's changes that the spec wants running: what a restart or start could break. */
function unitsToWatch(plan: Plan, spec: HostSpec): string[] {
  const changed = new Set(plan.changes.filter((c) => c.kind === 'units').map((c) => c.address));
  return (spec.units ?? []).filter((u) => changed.has(addressOf(u.name)) && u.state === 'running').map((u) => u.name);
}

interface UnitHealth {
  active: string;
  sub: string;
  result: string;
  restarts: number;
}

async function readUnits(host: Host, units: string[]): Promise<Map<string, UnitHealth>> {
  const r = await host.exec(['systemctl', 'show', '--property=Id,ActiveState,SubState,Result,NRestarts', '--', ...units], { timeoutMs: 10_000, describe: 'systemctl show (health gate)' });
  const out = new Map<string, UnitHealth>();
  if (!r.ok) return out;
  // One block per unit, in argument order, separated by a blank line.
  r.stdout.split(/\n\s*\n/).forEach((block, i) => {
    const f = Object.fromEntries(block.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const name = units[i];
    if (name && f.ActiveState) out.set(name, { active: f.ActiveState, sub: f.SubState ?? '', result: f.Result ?? '', restarts: Number(f.NRestarts ?? 0) });
  });
  return out;
}

async function httpCheck(url: string): Promise<string> {
  const shown = urlForMessages(url);
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000), redirect: 'manual' });
    await res.body?.cancel();
    return res.status >= 200 && res.status < 300 ? '' : `health.http ${shown} answered ${res.status}`;
  } catch (e) {
    return `health.http ${shown}: ${(e as Error).message}`;
  }
}

/**
 * The URL as status, events and logs may show it: scheme, host and path, never a user:password
 * or a query (a token): validate refuses credentials, but apply must not rely on it.
 */
export function urlForMessages(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(an unparsable URL)';
  }
}

/** The local server answers, and a standby receives WAL from its upstream. */
async function postgresCheck(host: Host, spec: HostSpec): Promise<string> {
  const pg = spec.postgres!;
  const debianPort = 'cluster' in pg.instance ? parsePortFromConf(await host.readText(`/etc/postgresql/${pg.instance.version}/${pg.instance.cluster}/postgresql.conf`)) : undefined;
  const inst = resolveInstance(pg.instance, [], debianPort);
  const r = await psqlLocal(host, inst, "SELECT pg_is_in_recovery(), coalesce((SELECT status FROM pg_stat_wal_receiver), 'none');\n", 10_000);
  if (!r.ok) return `PostgreSQL on port ${inst.port} does not accept connections: ${(r.stderr.trim().split('\n').pop() ?? '').slice(0, 200)}`;
  const [recovery, receiver] = r.stdout.trim().split('|');
  if (pg.role === 'standby' && (recovery !== 't' || receiver !== 'streaming')) return `the standby on port ${inst.port} is not streaming (wal receiver: ${receiver ?? 'none'})`;
  return '';
}
