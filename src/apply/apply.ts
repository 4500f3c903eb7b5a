import * as path from 'node:path';
import { hostname } from 'node:os';
import { UserError } from '../errors.js';
import { inScope, planSpec, prepareSpec, type PlanOptions, type PreparedSpec } from './planner.js';
import { orderSteps } from '../plan/order.js';
import type { ApplyReport, Change, Plan, Step, StepResult } from '../plan/types.js';
import type { Host } from '../host/host.js';
import type { HostSpec } from '../spec/types.js';
import { refuseStale } from '../plan/stale.js';
import { targets } from '../plan/target.js';
import { loadKinds } from '../resources/registry.js';
import { StepError, type StepContext, type StepRunner } from '../resources/types.js';
import { parseDuration } from '../duration.js';
import { genericOps } from './ops.js';
import { Journal } from './journal.js';
import { writeState, type OwnedEntry, type State } from './state.js';
import { acquireHostLock, acquireResourceLocks } from './lock.js';
import type { LockHandle, LockWait } from '../locks/types.js';
import type { RolloutHold } from './rollout.js';
import { findFleetRoot } from '../fleet/files.js';
import { fileBatch } from './batch.js';

export type { ApplyReport, StepResult, StepStatus } from '../plan/types.js';

export interface ApplyOptions extends PlanOptions {
  allowDestructive?: boolean;
  /** A plan saved with `plan --out`: apply refuses when the host changed since. */
  savedPlan?: Plan;
  /** Aborted on SIGTERM/SIGINT: the running step finishes, the rest do not start. */
  signal?: AbortSignal;
  /** Progress, before and after each step; awaited, so an observer can act between steps. */
  onStep?: (event: { index: number; total: number; step: Step; result?: StepResult }) => void | Promise<void>;
  /** The plan to run, made under the lock, before confirmation and any step (progress: the change summary). */
  onPlan?: (plan: Plan) => void;
  /** Called once the plan to run is known, before any step (the CLI asks for confirmation here). */
  confirm?: (plan: Plan) => Promise<boolean>;
  /** `--no-rollout --reason TEXT`: take no rollout slot (recorded). */
  noRollout?: { reason: string };
  /** Awaited before any step, once there is something to change (a fleet host's after: wait, which reads the plan's removals); a throw changes nothing. */
  beforeSteps?: (plan: Plan) => Promise<void>;
  /** --lock-timeout: how long to wait for a busy lock (default: the spec's lock.wait, else 10 minutes). */
  lockTimeoutMs?: number;
  /** Told at once when a lock is busy, and again while the wait goes on. */
  onLockWait?: (wait: LockWait) => void;
}

const DEFAULT_STEP_TIMEOUT_MS = 120_000;

/** What the applier asks of its rollout slots (src/apply/rollout.ts); a spec outside a fleet holds none. */
type Rollout = Pick<RolloutHold, 'handles' | 'opened' | 'settle' | 'close'>;
const NO_ROLLOUT: Rollout = { handles: [], opened: async () => undefined, settle: async () => undefined, close: async () => undefined };


export async function applySpec(file: string, givenOptions: ApplyOptions = {}): Promise<ApplyReport> {
  const options = { ...givenOptions, createDigestKey: true };
  // The spec is loaded once; the host is observed only under the lock (and again at the end).
  const first = await prepareSpec(file, options);
  const lock = await acquireHostLock(
    first.spec.value,
    first.host,
    first.secrets,
    { host: hostname(), pid: process.pid, plan: first.spec.sha256.slice(0, 12), since: new Date().toISOString() },
    { signal: options.signal, timeoutMs: options.lockTimeoutMs, onWait: options.onLockWait },
  ).catch((e: unknown) => {
    if (options.signal?.aborted) throw new UserError(`interrupted (${String(options.signal.reason)}) while waiting for the host lock; nothing was changed`);
    throw e;
  });
  try {
    // Re-observe under the lock: what another run did while we waited counts. A converged host may
    // be planned from the memo: its every answer is read again here, under the lock.
    const { plan, host, state: readOwned, secrets } = await planSpec(file, { ...options, memo: 'use' }, first);
    if (options.savedPlan) refuseStale(options.savedPlan, plan);
    const destructive = plan.changes.filter((c) => c.risk === 'destructive');
    if (destructive.length && !options.allowDestructive) {
      throw new UserError(`refusing destructive changes without --allow-destructive: ${destructive.map((c) => c.address).join(', ')}`);
    }
    options.onPlan?.(plan);
    const state = await readOwned();
    if (plan.changes.length === 0) {
      // In sync, but an apply killed after its steps may have left intents to confirm.
      await recordOwnership(host, state, plan, [], options);
      return { plan, results: [], remaining: [], ok: true, lockToken: lock.token };
    }
    if (options.confirm && !(await options.confirm(plan))) throw new UserError('apply cancelled; nothing was changed');
    // A fleet host's after: wait comes first: waiting on another host must not hold a rollout slot.
    await options.beforeSteps?.(plan);
    // Rollout slots (DESIGN §8.4) before resource locks, so the two can never deadlock. Their code
    // (Redis, the health gate) is loaded only for a spec inside a fleet: start-up is part of every apply.
    let rollout: Rollout = NO_ROLLOUT;
    if (findFleetRoot(path.dirname(path.resolve(file))).fleetRoot) {
      const { RolloutDeferred, takeRolloutSlots } = await import('./rollout.js');
      try {
        rollout = await takeRolloutSlots(file, plan, host, first.spec.value, { signal: options.signal, noRollout: options.noRollout });
      } catch (e) {
        if (!(e instanceof RolloutDeferred)) throw e;
        return { plan, results: [], remaining: plan.changes, ok: false, stoppedBecause: e.message, deferred: { group: e.group, position: e.position, why: e.why }, lockToken: lock.token };
      }
    }
    try {
      const shared = await acquireResourceLocks(first.spec.value, secrets, plan.locks ?? [], { host: hostname(), pid: process.pid, plan: plan.spec.sha256.slice(0, 12), since: new Date().toISOString() }, { signal: options.signal, timeoutMs: options.lockTimeoutMs, onWait: options.onLockWait });
      try {
        const timeoutMs = parseDuration(first.spec.value.watchdog?.stepTimeout ?? '') ?? DEFAULT_STEP_TIMEOUT_MS;
        return await runPlan(file, options, plan, host, state, secrets, timeoutMs, [lock, ...shared, ...rollout.handles], rollout, first);
      } finally {
        await Promise.all(shared.map((h) => h.release()));
      }
    } finally {
      await rollout.close();
    }
  } finally {
    await lock.release();
  }
}

/** The steps of a plan under its locks, the journal, ownership, and the proof that the host converged. */
async function runPlan(
  file: string,
  options: ApplyOptions,
  plan: Plan,
  host: Host,
  state: State,
  secrets: ReadonlyMap<string, string>,
  timeoutMs: number,
  locks: LockHandle[],
  rollout: Rollout,
  prepared: PreparedSpec,
): Promise<ApplyReport> {
  const spec = prepared.spec.value;
  const lock = locks[0]!;
  const steps = orderSteps(plan.changes);
  const kinds = await loadKinds(new Set(plan.changes.map((c) => c.kind)));
  const runners: Record<string, StepRunner> = Object.assign({}, genericOps, ...kinds.map((k) => k.ops ?? {}));
  const results: StepResult[] = [];
  let stoppedBecause: string | undefined;
  const journal = await Journal.open(host, { spec: plan.spec, host: plan.host, root: plan.root, lockToken: lock.token, changes: plan.changes.map((c) => c.address) });
  await rollout.opened(journal);
  state = await recordIntents(host, state, plan);
  try {
    host.backup = journal.backup;
    const servedBy = new Map<string, string[]>();
    for (const c of plan.changes) for (const s of c.steps) (servedBy.get(s.id) ?? servedBy.set(s.id, []).get(s.id)!).push(c.address);
    for (let index = 0; index < steps.length; ) {
      const batch = fileBatch(steps, index);
      if (!stoppedBecause) stoppedBecause = await reasonToStop(options.signal, locks);
      if (stoppedBecause) {
        for (const step of batch) results.push({ id: step.id, title: step.title, addresses: servedBy.get(step.id) ?? [], status: 'not run', durationMs: 0 });
        index += batch.length;
        continue;
      }
      const ran = await Promise.all(
        batch.map(async (step, i) => {
          await options.onStep?.({ index: index + i, total: steps.length, step });
          const result = await runStep(step, servedBy.get(step.id) ?? [], runners, { host, timeoutMs, secrets, fencingToken: lock.token });
          await journal.record({ event: 'step', id: step.id, op: step.op, title: step.title, status: result.status, error: result.error, durationMs: result.durationMs, lockToken: lock.token });
          await options.onStep?.({ index: index + i, total: steps.length, step, result });
          return result;
        }),
      );
      results.push(...ran);
      const failed = ran.find((r) => r.status === 'failed');
      if (failed) stoppedBecause = `step "${failed.title}" failed`;
      index += batch.length;
    }
  } finally {
    host.backup = undefined;
    try {
      // Ownership is written only while the lease holds: a lost lock means another apply may own the state now.
      const lost = await reasonToStop(undefined, [lock]);
      if (lost) stoppedBecause ??= lost;
      else await recordOwnership(host, state, plan, results, options);
    } finally {
      await journal.record({ event: 'steps', ok: !stoppedBecause, stoppedBecause }).catch(() => undefined);
    }
  }

  // Prove it: observe again; anything still different is a failure, whatever the steps said.
  let remaining: Change[] = [];
  try {
    remaining = (await planSpec(file, { ...options, memo: 'keep' }, prepared)).plan.changes;
    if (remaining.length && !stoppedBecause) stoppedBecause = `the host still differs from the spec after apply: ${remaining.map((c) => c.address).join(', ')}`;
  } catch (e) {
    stoppedBecause ??= `observing the host after apply failed: ${(e as Error).message}`;
  }
  // Slots go back only once the host is proven converged and healthy; else they are marked failed.
  const gate = await rollout.settle(journal, { ok: !stoppedBecause, why: stoppedBecause, plan, spec });
  stoppedBecause ??= gate;
  await journal.record({ event: 'end', ok: !stoppedBecause, stoppedBecause, remaining: remaining.map((c) => c.address) }).catch(() => undefined);
  await journal.close();
  return { plan, results, remaining, ok: !stoppedBecause, stoppedBecause, journal: journal.dir, lockToken: lock.token };
}

/** Why no further step may start: a signal, or a lease (the host's, a cluster's) that no longer holds. */
async function reasonToStop(signal: AbortSignal | undefined, locks: LockHandle[]): Promise<string | undefined> {
  if (signal?.aborted) return `interrupted (${String(signal.reason ?? 'signal')})`;
  for (const lock of locks) {
    try {
      await lock.assertHeld();
    } catch (e) {
      return `the lock was lost: ${(e as Error).message}`;
    }
  }
  return undefined;
}

/** One step with the watchdog's deadline, as a result (never an exception). Shared with rollback. */
export async function runStep(step: Step, addresses: string[], runners: Record<string, StepRunner>, ctx: StepContext): Promise<StepResult> {
  const { host, timeoutMs } = ctx;
  const started = performance.now();
  const base = { id: step.id, title: step.title, addresses };
  const elapsed = () => Math.round(performance.now() - started);
  if (step.live && host.offline) return { ...base, status: 'skipped', detail: 'skipped (offline root)', durationMs: 0 };
  const runner = runners[step.op];
  if (!runner) return { ...base, status: 'failed', error: `internal: no runner for step type ${step.op}`, durationMs: 0 };
  let timer: NodeJS.Timeout | undefined;
  try {
    // Commands carry their own deadline (the exec layer kills them); this one bounds file work.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StepError(`no answer within ${timeoutMs} ms (watchdog)`)), timeoutMs + 5_000);
    });
    const outcome = await Promise.race([runner(step, ctx), deadline]);
    return { ...base, status: outcome.status, detail: outcome.detail, durationMs: elapsed() };
  } catch (e) {
    const message = e instanceof StepError ? e.message : `${(e as Error).message ?? e}`;
    return { ...base, status: 'failed', error: message, durationMs: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Before any step runs: every address where the plan creates something is written to the state as
 * created and pending. A kill at any later point (even between the last step and recordOwnership)
 * leaves the intent, so the next apply still knows what is reconcile's to remove.
 */
async function recordIntents(host: Host, state: State, plan: Plan): Promise<State> {
  const creates = Object.entries(plan.creates ?? {});
  if (!creates.length) return state;
  const owned: Record<string, OwnedEntry> = { ...state.owned };
  for (const [address, parts] of creates) {
    const kind = plan.managed[address];
    if (kind === undefined) continue;
    const before = owned[address]?.created ?? [];
    owned[address] = { kind, created: [...new Set([...before, ...parts])].sort(), pending: true };
  }
  const next: State = { ...state, owned };
  await writeState(host, next);
  return next;
}

/**
 * What reconcile owns after an apply: what it owned before, plus every address of the spec whose
 * change it acted on (a step done), minus what it removed completely. An address it only found
 * already in place is not adopted, and one it only edited is owned with nothing `created`: leaving
 * the spec must not delete what someone else made.
 *
 * An address that left the spec with nothing planned for it is forgotten: reconcile stops
 * managing what it only edited (left as it is, like Terraform's `removed { lifecycle { destroy =
 * false } }`), and what it created is already gone.
 *
 * Pending intents (see recordIntents) are confirmed when their change completed, or when the
 * address is in the spec and in sync: we held the host lock from the intent on, so what the spec
 * asks for and now exists there is what the killed apply made. Runs after an in-sync plan too.
 */
async function recordOwnership(host: Host, state: State, plan: Plan, results: StepResult[], options: PlanOptions): Promise<void> {
  const status = new Map(results.map((r) => [r.id, r.status]));
  const owned: Record<string, OwnedEntry> = { ...state.owned };
  const changed = new Set(plan.changes.map((c) => c.address));
  for (const change of plan.changes) {
    const statuses = change.steps.map((s) => status.get(s.id));
    const acted = statuses.includes('done');
    const complete = statuses.every((st) => st === 'done' || st === 'already' || st === 'skipped');
    const managedKind = plan.managed[change.address];
    const entry = owned[change.address];
    if (managedKind !== undefined && acted && !entry) owned[change.address] = { kind: managedKind, created: [] };
    if (managedKind !== undefined && complete && entry?.pending) owned[change.address] = { kind: entry.kind, created: entry.created };
    if (managedKind === undefined && complete) delete owned[change.address];
  }
  for (const [address, entry] of Object.entries(owned)) {
    if (changed.has(address) || !inScope(address, options)) continue;
    // Left out by --target: its ownership is as it was.
    if (plan.targets && !plan.targets.some((t) => targets(t, address))) continue;
    if (plan.managed[address] === undefined) delete owned[address]; // left the spec, nothing (of ours) left to remove
    else if (entry.pending) owned[address] = { kind: entry.kind, created: entry.created };
  }
  if (JSON.stringify(owned) === JSON.stringify(state.owned)) return;
  await writeState(host, { formatVersion: 2, owned, lastApply: { at: new Date().toISOString(), spec: plan.spec } });
}
