/**
 * The converged-plan memo. A host in sync is planned again and again (drift on a timer, pull every
 * 15 minutes on every host of a fleet), and almost all of that work is loading the kinds, parsing
 * their files and diffing, to reach the same answer. A plan is a pure function of the spec and of
 * what the Host answered, so a plan with no change is kept with the trace of every call it made
 * (src/host/trace.ts); the next plan of the same spec asks each call again, and when every answer
 * digests the same, the plan is the same. Nothing is trusted because it looks unchanged (no
 * mtimes): each file is read again, each command run again, only the parsing and diffing are saved.
 *
 * Kept only when the trace is the whole story: no secret (a secret's value is not in the trace),
 * no kind that asks a database, no `ignoreDrift` (it depends on the date), no facts snapshot.
 * RECONCILE_NO_CACHE=1 turns it off.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { buildIdentity, readCacheEntry, writeCacheEntry } from '../spec/cache.js';
import { TracingHost, verifyTrace, type Trace } from '../host/trace.js';
import type { Plan } from '../plan/types.js';
import type { PreparedSpec } from './planner.js';

const MEMO_FORMAT = 1;

/** What a kept plan holds beyond what the spec and this run give (createdAt, spec, git). */
export type KeptPlan = Pick<Plan, 'digests' | 'managed' | 'creates' | 'warnings' | 'locks' | 'files'>;

interface MemoEntry {
  formatVersion: number;
  trace: Trace;
  plan: KeptPlan;
}

export interface MemoContext {
  key: string;
  root: string;
}

/** The memo's key for this spec and these options; undefined when the plan may not be kept. */
export function memoContext(p: PreparedSpec, options: { targets?: readonly string[]; ownUnits?: boolean }): MemoContext | undefined {
  if (p.secrets.size > 0 || options.targets?.length) return undefined;
  const ignore = p.spec.value.ignoreDrift;
  if (ignore && (!Array.isArray(ignore) || ignore.length)) return undefined;
  const root = p.host.root;
  const key = createHash('sha256')
    .update(
      JSON.stringify([
        MEMO_FORMAT,
        buildIdentity(),
        root,
        p.host.offline ? null : p.host.hostname(),
        path.resolve(p.spec.path),
        p.spec.sha256,
        p.fleet?.sources ?? null,
        !!options.ownUnits,
        p.diagnostics.map((d) => [d.severity, d.message]),
      ]),
    )
    .digest('hex');
  return { key, root };
}

/** The kept plan, when every call of its trace answers as it did. */
export async function recall(ctx: MemoContext): Promise<KeptPlan | undefined> {
  const entry = readCacheEntry<MemoEntry>('plans', ctx.key);
  if (entry?.formatVersion !== MEMO_FORMAT || typeof entry.trace !== 'object' || !entry.plan) return undefined;
  const verdict = await verifyTrace(entry.trace, ctx.root);
  return verdict.same ? entry.plan : undefined;
}

/** Keeps a plan with no change, when the trace covers everything it read. */
export function remember(ctx: MemoContext, host: TracingHost, plan: Plan): void {
  if (plan.changes.length || host.incomplete) return;
  const kept: KeptPlan = { digests: plan.digests, managed: plan.managed, warnings: plan.warnings };
  for (const k of ['creates', 'locks', 'files'] as const) if (plan[k] !== undefined) (kept as Record<string, unknown>)[k] = plan[k];
  writeCacheEntry('plans', ctx.key, { formatVersion: MEMO_FORMAT, trace: host.trace(), plan: kept } satisfies MemoEntry);
}
