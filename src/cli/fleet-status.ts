/**
 * `reconcile fleet status|forget|unblock` (DESIGN §8.5, §8.4 rule 7), run in the fleet's
 * repository: the fleet's Redis from fleet.yaml, the specs at HEAD of the working tree.
 */
import { existsSync } from 'node:fs';
import { UserError, formatDiagnostic } from '../errors.js';
import { findFleetRoot } from '../fleet/files.js';
import { loadFleet, type Fleet } from '../fleet/inventory.js';
import { formatPosition } from '../fleet/origins.js';
import { mergedSpecDigest } from '../fleet/context.js';
import { mergeContext, mergeHost } from '../fleet/merge.js';
import { assessFleet } from '../fleet/status/assess.js';
import { selectHosts } from '../fleet/select.js';
import { renderStatusJson, renderStatusProm, renderStatusText } from '../fleet/status/render.js';
import { forgetHost, readFleet, unblockHost } from '../fleet/status/store.js';
import { isSentinelRef, openFleetRedis } from '../fleet/redis.js';
import { oneOf, parse } from './args.js';
import { onlyFlags, openFleet, type OpenFleet } from './fleet.js';
import { rolloutGroup, slotLimit } from '../fleet/context.js';
import { GroupSlots } from '../locks/slots.js';
import { renderRolloutsText, rolloutSamples, rolloutView, type RolloutView } from '../fleet/status/rollouts.js';

export const FLEET_STATUS_HELP = `usage: reconcile fleet status [--group G] [--limit SEL] [--format text|json|prom]

Every host's last report from the fleet's Redis, judged against the repository's HEAD (the working
tree): failed, blocked, stale (silent for more than 2 × its interval + 5 min), never reported, not in
the fleet, duplicate identity, unacknowledged drift, behind (its merged spec at HEAD is not the one
it last converged on), below minVersion. Text shows counts and the hosts needing attention; json
is versioned; prom is for node_exporter's textfile collector.
  --group G      only the hosts of group G
  --limit SEL    only these hosts (web*, group:web, !web3, &group:dc1; comma-separated or repeated)
exit 0 nothing needs attention · 2 something does · 1 error`;

export const FLEET_FORGET_HELP = `usage: reconcile fleet forget HOST --reason TEXT

Deletes a decommissioned host's status from the fleet's Redis; the event stream records who and why.`;

export const FLEET_UNBLOCK_HELP = `usage: reconcile fleet unblock HOST --reason TEXT

Lets HOST go once without waiting for the hosts it runs after (after:); recorded with who and why.`;

function openHere(command: string, dir: string | undefined): OpenFleet {
  const open = openFleet(dir);
  if (open.fleet.redis === undefined) throw new UserError(`${formatPosition({ file: open.fleet.file, at: [] })}: the fleet has no redis: (status lives in the fleet's Redis)`);
  return open;
}

export async function fleetStatusCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('fleet', argv);
  onlyFlags('status', values, ['group', 'limit', 'format', 'fleet']);
  if (values.help) {
    process.stdout.write(`${FLEET_STATUS_HELP}\n`);
    return 0;
  }
  if (positionals.length) throw new UserError(`reconcile fleet status: unexpected argument "${positionals[0]}" (see reconcile fleet status --help)`);
  const format = oneOf('fleet status', 'format', values.format, ['text', 'json', 'prom'] as const, 'text');
  const { fleet, name } = openHere('status', values.fleet);
  let hosts = [...fleet.hosts.values()];
  if (values.group !== undefined) {
    if (!fleet.groups.has(values.group)) throw new UserError(`reconcile fleet status: no group ${JSON.stringify(values.group)} in ${fleet.file.display}`);
    hosts = hosts.filter((h) => h.groups.includes(values.group!));
  }
  const narrowed = values.group !== undefined || !!values.limit?.length;
  if (values.limit?.length) {
    const selected = selectHosts(fleet, values.limit);
    hosts = hosts.filter((h) => selected.has(h.name));
  }
  const mctx = mergeContext(fleet.root, fleet);
  const headDigest = new Map<string, string>();
  for (const h of hosts) if (existsSync(h.spec)) headDigest.set(h.name, mergedSpecDigest(mergeHost(h.spec, mctx, h).value));
  // Rollout groups: the one asked for, or every group one of the shown hosts is in.
  const groupNames = values.group !== undefined ? [values.group] : [...new Set(hosts.flatMap((h) => h.groups))].sort();
  const conn = await openFleetRedis(fleet.redis);
  let snapshot;
  const rollouts: RolloutView[] = [];
  try {
    snapshot = await readFleet(conn.client, name, hosts.map((h) => h.name));
    for (const g of groupNames) rollouts.push(rolloutView(g, slotLimit(rolloutGroup(fleet, g)), await new GroupSlots(conn.client, name, g, isSentinelRef(fleet.redis)).inspect()));
  } catch (e) {
    throw conn.fail(e);
  } finally {
    await conn.close();
  }
  // Narrowed, hosts outside the selection are not this view's business ("not in fleet" is theirs only without it).
  const status = !narrowed ? snapshot.status : new Map([...snapshot.status].filter(([h]) => hosts.some((x) => x.name === h)));
  const view = assessFleet({ fleet: name, inventory: new Map(hosts.map((h) => [h.name, h.groups])), status, now: snapshot.now, epoch: snapshot.epoch, headDigest, minVersion: fleet.minVersion });
  // Groups whose rollout needs a human (halted, overcommitted, failed or abandoned slots) are attention too.
  const attention = view.attention || rollouts.some((r) => r.attention.length > 0);
  const text = () => {
    const extra = renderRolloutsText(rollouts, values.group !== undefined);
    return `${renderStatusText(view)}${extra.map((l) => `${l}\n`).join('')}`;
  };
  process.stdout.write(format === 'json' ? renderStatusJson({ ...view, attention, rollouts }) : format === 'prom' ? renderStatusProm(view, rolloutSamples(rollouts)) : values.quiet ? '' : text());
  return attention ? 2 : 0;
}

function hostAndReason(command: string, help: string, argv: string[]): { host?: string; reason?: string; help?: boolean; fleet?: string } {
  const { values, positionals } = parse('fleet', argv);
  onlyFlags(command, values, ['reason', 'fleet']);
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return { help: true };
  }
  if (positionals.length !== 1) throw new UserError(`reconcile fleet ${command}: expected one HOST, got ${positionals.length} (see reconcile fleet ${command} --help)`);
  if (!values.reason?.trim()) throw new UserError(`reconcile fleet ${command}: --reason TEXT is required (it is recorded with who and when)`);
  return { host: positionals[0]!, reason: values.reason, fleet: values.fleet };
}

export async function fleetForgetCommand(argv: string[]): Promise<number> {
  const a = hostAndReason('forget', FLEET_FORGET_HELP, argv);
  if (a.help) return 0;
  const { name, fleet } = openHere('forget', a.fleet);
  const conn = await openFleetRedis(fleet.redis);
  try {
    const had = await forgetHost(conn.client, name, a.host!, a.reason!);
    if (!values_quiet(argv)) process.stdout.write(`${JSON.stringify(a.host)}: ${had ? 'status forgotten' : 'had no status'}; recorded on the event stream${fleet.hosts.has(a.host!) ? ' (still in fleet.yaml: it is "never reported" until removed there)' : ''}\n`);
    return 0;
  } catch (e) {
    throw conn.fail(e);
  } finally {
    await conn.close();
  }
}

export async function fleetUnblockCommand(argv: string[]): Promise<number> {
  const a = hostAndReason('unblock', FLEET_UNBLOCK_HELP, argv);
  if (a.help) return 0;
  const { name, fleet } = openHere('unblock', a.fleet);
  if (!fleet.hosts.has(a.host!)) throw new UserError(`reconcile fleet unblock: no host ${JSON.stringify(a.host)} in ${fleet.file.display}`);
  const conn = await openFleetRedis(fleet.redis);
  try {
    await unblockHost(conn.client, name, a.host!, a.reason!);
    if (!values_quiet(argv)) process.stdout.write(`${a.host}: its next after: wait lets it go once; recorded on the event stream\n`);
    return 0;
  } catch (e) {
    throw conn.fail(e);
  } finally {
    await conn.close();
  }
}

const values_quiet = (argv: string[]) => argv.includes('--quiet') || argv.includes('-q');
