/**
 * The rollout groups in `fleet status` (DESIGN §8.4 rule 12, §8.5): per group its limit, who holds
 * slots and in which phase, the queue, failed and abandoned hosts, pause, halt and overcommit. Pure:
 * made from each group's state as the slot scripts report it.
 */
import type { GroupState } from '../../locks/slots.js';
import type { RolloutSamples } from './render.js';

export interface RolloutView {
  group: string;
  /** maxParallel as a count for the group's size now. */
  limit: number;
  holders: { host: string; phase: string; commit: string; sinceMs: number }[];
  queue: string[];
  failed: string[];
  abandoned: string[];
  paused: boolean;
  halted: boolean;
  haltReason?: string;
  overcommitted: boolean;
  /** Why the group needs a human: halted, overcommitted, failed or abandoned slots. */
  attention: string[];
}

const PHASES = ['converging', 'gating', 'failed', 'abandoned'] as const;

export function rolloutView(group: string, limit: number, s: GroupState): RolloutView {
  const of = (phase: string) => s.slots.filter((x) => x.phase === phase).map((x) => x.host).sort();
  const attention: string[] = [];
  if (s.halted) attention.push(`halted${s.haltReason ? `: ${s.haltReason}` : ''} (until fleet resume ${group} --reason TEXT)`);
  if (s.overcommitted) attention.push(`overcommitted: ${s.slots.length} slots for a limit of ${limit} after a Redis failover`);
  const failed = of('failed');
  const abandoned = of('abandoned');
  if (failed.length) attention.push(`failed: ${failed.join(', ')}`);
  if (abandoned.length) attention.push(`abandoned (holder died): ${abandoned.join(', ')}`);
  return {
    group,
    limit,
    holders: s.slots.map((x) => ({ host: x.host, phase: x.phase, commit: x.commit, sinceMs: Math.max(0, s.now - x.since) })).sort((a, b) => (a.host < b.host ? -1 : 1)),
    queue: s.queue,
    failed,
    abandoned,
    paused: s.paused,
    halted: s.halted,
    ...(s.haltReason ? { haltReason: s.haltReason } : {}),
    overcommitted: s.overcommitted,
    attention,
  };
}

/** The Prometheus samples of §8.5: slots by phase (every phase, zeros included), queue length, halted. */
export function rolloutSamples(views: RolloutView[]): RolloutSamples {
  return {
    slots: views.flatMap((v) => PHASES.map((phase) => ({ group: v.group, phase, value: v.holders.filter((h) => h.phase === phase).length }))),
    queue: views.map((v) => ({ group: v.group, value: v.queue.length })),
    halted: views.map((v) => ({ group: v.group, value: v.halted ? 1 : 0 })),
  };
}

export function renderRolloutsText(views: RolloutView[], all: boolean): string[] {
  const lines: string[] = [];
  for (const v of views) {
    if (!all && !v.attention.length && !v.holders.length && !v.queue.length && !v.paused) continue;
    const held = v.holders.length ? v.holders.map((h) => `${h.host} (${h.phase})`).join(', ') : 'none';
    lines.push(`rollout group ${v.group}: ${v.holders.length}/${v.limit} slots held: ${held}; queue ${v.queue.length ? v.queue.join(', ') : 'empty'}${v.paused ? '; paused' : ''}`);
    for (const a of v.attention) lines.push(`  ${a}`);
  }
  return lines;
}
