import type { ResourceKind } from '../types.js';
import { diffMounts } from './diff.js';
import { DEFAULT_PROBE_DEADLINE_MS, observeMounts } from './observe.js';
import { mountsOps } from './steps.js';
import type { MountsObserved } from './types.js';

export type { MountSpec, MountState, MountCredentials, MountsObserved } from './types.js';
export { MountsError, type MountsDiffOutput } from './diff.js';

/** A mounts kind with its own probe deadline (tests use a short one). */
export function createMountsKind(options: { probeDeadlineMs?: number } = {}): ResourceKind<MountsObserved> {
  return {
    name: 'mounts',
    observe: (ctx) => observeMounts(ctx, options.probeDeadlineMs ?? DEFAULT_PROBE_DEADLINE_MS),
    diff: diffMounts,
    ops: mountsOps,
  };
}

export const mountsKind: ResourceKind<MountsObserved> = createMountsKind();
