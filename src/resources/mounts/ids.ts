/**
 * Ids of the mounts kind's steps, for other kinds to order against (a leaf module: other kinds may
 * import it, it imports nothing).
 */
export const mountStepId = (path: string) => `mounts.mount:${path}`;
export const remountStepId = (path: string) => `mounts.remount:${path}`;
/** Every mount and remount of a plan: after them, a path under a mount point is on the mounted filesystem. */
export const ANY_MOUNT = [mountStepId('*'), remountStepId('*')];
