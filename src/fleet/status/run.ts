/**
 * A host's run as the fleet sees it: after apply, drift and pull it reports its status (DESIGN
 * §8.5); before an apply's steps it waits for the hosts it runs after (§8.4 rule 7). Only a host
 * of a fleet with a `redis:` takes part; writing status never fails the run.
 */
import { Host } from '../../host/host.js';
import { redact } from '../../spec/secrets.js';
import { parseDuration } from '../../duration.js';
import { VERSION } from '../../version.js';
import { UserError } from '../../errors.js';
import { ROLLOUT_DEFAULTS, fleetContextFor, mergedSpecDigest, type HostFleetContext, type Rollout } from '../context.js';
import { mergeContext, mergeHost } from '../merge.js';
import { afterEdges, upstreamDigests, waitForUpstreams } from '../after.js';
import { nextRecord, outcomeOfApply, outcomeOfDrift, outcomeOfError, outcomeOfPlan, type DriftOutcome, type RunOutcome, type StatusRecord } from './record.js';
import type { ApplyReport, Plan } from '../../plan/types.js';
import { gitInfo, isAncestor } from '../../plan/git.js';
import { writeStatus } from './store.js';
import { openFleetRedis } from '../redis.js';
import { DEFAULT_INTERVAL_SEC } from './assess.js';

/** The host's own memory of its last convergence and failure: Redis losing its data loses neither. */
export const HISTORY_FILE = '/var/lib/reconcile/fleet-status.json';

export interface FleetRun {
  ctx: HostFleetContext;
  specDigest: string;
  /** Writes the status; a failure is only a warning. */
  report(outcome: RunOutcome): Promise<StatusRecord | undefined>;
  /**
   * Waits for the upstream hosts (and, given the plan about to run, the hosts it takes something
   * from); throws BlockedError (exit 1, nothing changed) after afterTimeout.
   */
  awaitUpstreams(signal?: AbortSignal, plan?: Plan): Promise<void>;
}

export interface FleetRunOptions {
  root?: string;
  /** Seconds between this host's runs (the pull timer's or drift's --every). */
  intervalSec?: number;
  warn: (message: string) => void;
}

/** The fleet side of a run on `specFile`, or undefined outside a fleet with a Redis. */
export function fleetRunFor(specFile: string, options: FleetRunOptions): FleetRun | undefined {
  let ctx: HostFleetContext | undefined;
  try {
    ctx = fleetContextFor(specFile);
  } catch {
    return undefined; // a broken inventory is validate's to report; the run goes on without the fleet
  }
  if (!ctx || ctx.redis === undefined) return undefined;
  const c = ctx;
  const mctx = mergeContext(c.fleetRoot, c.fleet);
  const merged = mergeHost(c.host.spec, mctx, c.host);
  const specDigest = mergedSpecDigest(merged.value);
  const host = new Host(options.root ?? '/');

  return {
    ctx: c,
    specDigest,
    async report(outcome) {
      try {
        const machineId = ((await host.readText('/etc/machine-id')) ?? '').trim() || 'unknown';
        const history = await readHistory(host);
        const conn = await openFleetRedis(c.redis);
        try {
          const record = await writeStatus(conn.client, c.name, c.host.name, machineId, (now) =>
            nextRecord(outcome, { host: c.host.name, machineId, interval: options.intervalSec ?? history?.interval ?? DEFAULT_INTERVAL_SEC, specDigest, version: VERSION }, history, now),
          );
          // The host's own schedule is its pull timer's: a run without one (an apply by hand, a drift
          // check) reports that interval, not the default, so it does not make the host look late.
          await writeHistory(host, record, outcome.source === 'pull' && options.intervalSec ? options.intervalSec : history?.interval);
          return record;
        } finally {
          await conn.close();
        }
      } catch (e) {
        options.warn(`reconcile: warning: the fleet status of ${c.host.name} was not written: ${redact((e as Error)?.message ?? String(e))}`);
        return undefined;
      }
    },
    async awaitUpstreams(signal, plan) {
      const edges = afterEdges(c, merged.value, plan && { plan, specOf: (y) => mergeHost(y.spec, mctx, y).value });
      if (!edges.length) return;
      const digests = upstreamDigests(c.fleet, edges, mctx);
      const here = (await gitInfo(specFile))?.commit;
      const conn = await openFleetRedis(c.redis).catch((e: Error) => {
        throw new UserError(`reconcile: ${c.host.name} runs after ${edges.map((e) => e.host).join(', ')}, and the fleet Redis cannot say whether they converged: ${e.message}; nothing was changed`);
      });
      // A subscribed connection waits as long as it must: no command timeout on it.
      const subscriber = conn.client.duplicate({ commandTimeout: undefined, lazyConnect: true });
      subscriber.on('error', () => undefined);
      try {
        await subscriber.connect();
        const { unblocked } = await waitForUpstreams({
          client: conn.client,
          subscriber,
          fleet: c.name,
          self: c.host.name,
          edges,
          digests,
          timeoutMs: afterTimeoutMs(c),
          convergedAhead: async (commit) => !!here && commit !== here && (await isAncestor(c.fleetRoot, here, commit)),
          signal,
          // Each with its reason: a server waiting for a client (a removal in reverse) surprises otherwise.
          onWait: (pending) => options.warn(`reconcile: ${c.host.name} waits for ${pending.join(', ')} to converge at this commit (${pending.map((h) => edges.find((e) => e.host === h)?.because).join('; ')})`),
        });
        if (unblocked) options.warn(`reconcile: ${c.host.name} goes on without waiting, once: fleet unblock ${redact(unblocked)}`);
      } finally {
        subscriber.disconnect();
        await conn.close();
      }
    },
  };
}

/** The longest afterTimeout of the host's groups (the fleet default without a group). */
export function afterTimeoutMs(c: HostFleetContext): number {
  const fallback = { ...ROLLOUT_DEFAULTS, ...((c.fleet.defaults.rollout ?? {}) as Partial<Rollout>) }.afterTimeout;
  const all = [fallback, ...c.groups.map((g) => g.rollout.afterTimeout)].map((d) => parseDuration(d) ?? 30 * 60_000);
  return c.groups.length ? Math.max(...all.slice(1)) : all[0]!;
}

async function readHistory(host: Host): Promise<(Pick<StatusRecord, 'lastConverged' | 'lastFailure'> & { interval?: number }) | null> {
  const text = await host.readText(HISTORY_FILE).catch(() => null);
  if (!text) return null;
  try {
    const v = JSON.parse(text) as Partial<StatusRecord>;
    const interval = typeof v.interval === 'number' && Number.isSafeInteger(v.interval) && v.interval > 0 ? v.interval : undefined;
    return { lastConverged: v.lastConverged ?? null, lastFailure: v.lastFailure ?? null, interval };
  } catch {
    return null;
  }
}

async function writeHistory(host: Host, r: StatusRecord, interval: number | undefined): Promise<void> {
  await host.ensureDir('/var/lib');
  await host.ensureDir('/var/lib/reconcile', { mode: 0o700 });
  await host.writeFile(HISTORY_FILE, `${JSON.stringify({ formatVersion: 1, lastConverged: r.lastConverged, lastFailure: r.lastFailure, ...(interval ? { interval } : {}) }, null, 2)}\n`, { mode: 0o600 });
}

const warnOnStderr = (m: string) => process.stderr.write(`${m}\n`);

/**
 * An apply (or pull --apply) as a fleet host runs it: `run` gets the hook that waits for the
 * upstream hosts before any step, and whatever it ends in (converged, failed, blocked, an error)
 * is reported. The CLI's one call.
 */
export async function applyReporting(
  specFile: string,
  o: { root?: string; source: 'apply' | 'pull'; intervalSec?: number; signal?: AbortSignal },
  run: (beforeSteps?: (plan: Plan) => Promise<void>) => Promise<ApplyReport>,
): Promise<ApplyReport> {
  const fleet = fleetRunFor(specFile, { root: o.root, intervalSec: o.intervalSec, warn: warnOnStderr });
  if (!fleet) return run();
  let report: ApplyReport;
  try {
    report = await run((plan) => fleet.awaitUpstreams(o.signal, plan));
  } catch (e) {
    await fleet.report(outcomeOfError(o.source, e, (await gitInfo(specFile))?.commit ?? null));
    throw e;
  }
  await fleet.report(outcomeOfApply(o.source, report));
  return report;
}

/** A plan (pull without --apply) or a drift check, reported by a fleet host. */
export async function reportCheck(specFile: string, o: { root?: string; intervalSec?: number }, what: { plan: Plan } | { drift: DriftOutcome }): Promise<void> {
  const fleet = fleetRunFor(specFile, { root: o.root, intervalSec: o.intervalSec, warn: warnOnStderr });
  if (!fleet) return;
  await fleet.report('plan' in what ? outcomeOfPlan('pull', what.plan) : outcomeOfDrift(what.drift));
}
