import type { Step } from '../plan/types.js';

/**
 * The one `systemctl daemon-reload` of an apply, shared by every kind that changes what systemd
 * reads (unit files, drop-ins, /etc/fstab through systemd-fstab-generator). Identical wherever it
 * is emitted, so the applier runs it once, after every file step.
 */
export const DAEMON_RELOAD_ID = 'exec:systemctl daemon-reload';

export function daemonReloadStep(): Step {
  return { id: DAEMON_RELOAD_ID, op: 'exec', title: 'systemctl daemon-reload', live: true, after: ['file:*', 'dir:*'], args: { argv: ['systemctl', 'daemon-reload'] } };
}
