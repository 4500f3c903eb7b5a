import type { Host } from '../host/host.js';
import { UserError } from '../errors.js';
import { ROLLOUT_DEFAULTS } from '../fleet/context.js';
import { parseDuration } from '../duration.js';
import { scheduleText, scheduledUnits, unitsFragmentYaml, type Schedule } from '../schedule/units.js';
import type { UnitSpec } from '../spec/types.js';
import { STATE_DIR } from '../apply/state.js';

export const PULL_UNIT = 'reconcile-pull';
/** Secrets the pull needs (lock.redis URL, passwords the spec names by {env:}), 0600, root-relative. */
export const PULL_ENV_FILE = '/etc/reconcile/pull.env';
/** Who may sign the commits pull applies; installed by --install-timer, never read from the repository. */
export const ALLOWED_SIGNERS_FILE = '/etc/reconcile/allowed_signers';
/** The fragment of reconcile's own units, kept so an operator sees what was applied (and a re-install compares). */
export const PULL_UNITS_SPEC = `${STATE_DIR}/pull/units.yaml`;

/** The waits a pull run may sit through, longest case: what TimeoutStartSec= must exceed (DESIGN §8.5). */
export const PULL_LOCK_WAIT_MS = 10 * 60_000;
const HOST_LOCK_WAIT_MS = 10 * 60_000;
/** Room for the apply's own steps (a standby rebuild, a migration) beyond the waits. */
const APPLY_MS = 15 * 60_000;
export function pullTimeoutMs(): number {
  return PULL_LOCK_WAIT_MS + HOST_LOCK_WAIT_MS + parseDuration(ROLLOUT_DEFAULTS.wait)! + parseDuration(ROLLOUT_DEFAULTS.afterTimeout)! + APPLY_MS;
}

export interface PullTimerOptions {
  /** The reconcile launcher on this host (absolute): the unit is written here for here. */
  bin: string;
  repo: string;
  ref: string;
  path: string;
  /** --host, when the machine's hostname is not the spec's name. */
  host?: string;
  schedule: Schedule;
  verifySignatures: boolean;
  envNames: string[];
  credentials: { id: string; path: string }[];
}

/**
 * reconcile-pull.service and .timer: `reconcile pull REPO --apply` every interval, a third of it as
 * random delay (hosts of a fleet do not all fetch at once), exit 2 (deferred by a rollout) a
 * success, a start timeout above every wait a run may sit through.
 */
export function pullTimerUnits(o: PullTimerOptions): UnitSpec[] {
  const argv = [
    o.bin,
    'pull',
    o.repo,
    '--apply',
    '--ref',
    o.ref,
    '--path',
    o.path,
    // The run reports its interval with its status: fleet status judges staleness by it (§8.5).
    '--every',
    scheduleText(o.schedule),
    ...(o.host ? ['--host', o.host] : []),
    ...(o.verifySignatures ? ['--verify-signatures', '--allowed-signers', ALLOWED_SIGNERS_FILE] : []),
  ];
  return scheduledUnits({
    name: PULL_UNIT,
    description: `reconcile pull of ${o.repo} (${o.ref})`,
    argv,
    schedule: o.schedule,
    randomizedDelayMs: o.schedule.ms / 3,
    timeoutStartMs: pullTimeoutMs(),
    successExitStatus: [2],
    ...(o.envNames.length ? { environmentFile: PULL_ENV_FILE } : {}),
    credentials: o.credentials,
  });
}

/** The spec of reconcile's own units for this host, as the units kind reads it. */
export async function pullUnitsSpec(hostName: string, units: UnitSpec[]): Promise<string> {
  const body = await unitsFragmentYaml(units, 'reconcile pull --install-timer: reconcile\'s own units, applied by it; not a spec to edit');
  return body.replace(/^units:/m, `host: ${JSON.stringify(hostName)}\nunits:`);
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `NAME="value"` lines for systemd's EnvironmentFile=, values from this process's environment:
 * inside double quotes systemd takes `\`, `"`, `` ` `` and `$` escaped and everything else (a line
 * break too) as it is.
 */
export function environmentFileText(names: string[], env: NodeJS.ProcessEnv): string {
  const lines: string[] = [];
  for (const name of names) {
    if (!ENV_NAME.test(name)) throw new UserError(`reconcile pull: --env ${JSON.stringify(name)} is not an environment variable name (letters, digits and _, not starting with a digit)`);
    const value = env[name];
    if (value === undefined) throw new UserError(`reconcile pull: --env ${name}: ${name} is not set in this environment; set it for this command (its value goes to ${PULL_ENV_FILE}, 0600, never into the unit)`);
    if (value.includes('\0')) throw new UserError(`reconcile pull: --env ${name}: the value holds a NUL byte, which an environment cannot carry`);
    lines.push(`${name}="${value.replace(/[\\"`$]/g, (c) => `\\${c}`)}"`);
  }
  return `# written by reconcile pull --install-timer; read by ${PULL_UNIT}.service\n${lines.join('\n')}\n`;
}

/** `--credential ID=PATH`: LoadCredential= gives the service the file as $CREDENTIALS_DIRECTORY/ID. */
export function parseCredential(text: string): { id: string; path: string } {
  const m = /^([A-Za-z0-9_.-]+)=(\/\S*)$/.exec(text);
  if (!m || m[1] === '.' || m[1] === '..') throw new UserError(`reconcile pull: --credential ${JSON.stringify(text)} must be ID=/absolute/path (ID: letters, digits, _ . -; the spec reads it as {file: /run/credentials/${PULL_UNIT}.service/ID})`);
  return { id: m[1]!, path: m[2]! };
}

/** Writes the secrets file (0600) and the allowed signers (0644) under the host's root. */
export async function installPullFiles(host: Host, o: { envText?: string; allowedSigners?: string }): Promise<void> {
  if (o.envText !== undefined) await host.writeFile(PULL_ENV_FILE, o.envText, { mode: 0o600 });
  if (o.allowedSigners !== undefined) await host.writeFile(ALLOWED_SIGNERS_FILE, o.allowedSigners, { mode: 0o644 });
}
