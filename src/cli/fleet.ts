/**
 * `reconcile fleet SUBCOMMAND …`: the fleet at run time, through its Redis (DESIGN §8.4, §8.5).
 * Adding a subcommand is one entry in SUBCOMMANDS; each is loaded only when it runs.
 */
import * as path from 'node:path';
import { UserError, formatDiagnostic } from '../errors.js';
import { parse } from './args.js';
import { commandHelp } from './docs.js';
import { findFleetRoot } from '../fleet/files.js';
import { loadFleet, type Fleet } from '../fleet/inventory.js';

type Subcommand = (argv: string[]) => Promise<number>;

const SUBCOMMANDS: Record<string, { load: () => Promise<Subcommand>; about: string }> = {
  status: { load: async () => (await import('./fleet-status.js')).fleetStatusCommand, about: "status [--group G] [--limit SEL] [--format text|json|prom]: every host's last report and what needs attention (exit 2 when something does)" },
  pause: { load: async () => (await import('./fleet-control.js')).controlCommand('pause'), about: 'pause GROUP|HOST --reason TEXT: grant no rollout slot to the group or host' },
  resume: { load: async () => (await import('./fleet-control.js')).controlCommand('resume'), about: 'resume GROUP|HOST --reason TEXT: lift a pause; for a group also a halt, and forget its failed slots' },
  release: { load: async () => (await import('./fleet-control.js')).controlCommand('release'), about: "release GROUP|HOST --reason TEXT: drop the host's slots (or every slot of the group)" },
  unblock: { load: async () => (await import('./fleet-status.js')).fleetUnblockCommand, about: 'unblock HOST --reason TEXT: let a host blocked by after: go once' },
  forget: { load: async () => (await import('./fleet-status.js')).fleetForgetCommand, about: "forget HOST --reason TEXT: forget a decommissioned host's status" },
};

export async function fleetCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub.startsWith('-')) {
    // Flags before any subcommand: checked against the definition, then the help or a usage error.
    const { values } = parse('fleet', argv);
    if (!sub || values.help) {
      process.stdout.write(commandHelp('fleet'));
      return sub ? 0 : 1;
    }
    throw new UserError(`reconcile fleet: name a subcommand first: ${Object.keys(SUBCOMMANDS).join(', ')} (see reconcile help fleet)`);
  }
  const entry = SUBCOMMANDS[sub];
  if (!entry) throw new UserError(`reconcile fleet: unknown subcommand "${sub}" (see reconcile fleet --help)`);
  return (await entry.load())(rest);
}

/** Flags the fleet definition holds for every subcommand, of which each takes only its own. */
export function onlyFlags(sub: string, values: Record<string, unknown>, allowed: readonly string[]): void {
  const common = ['help', 'no-color', 'quiet', 'verbose'];
  const other = Object.keys(values).find((k) => values[k] !== undefined && !allowed.includes(k) && !common.includes(k));
  if (other) throw new UserError(`reconcile fleet ${sub}: --${other} is not an option of ${sub} (see reconcile fleet ${sub} --help)`);
}

export interface OpenFleet {
  fleet: Fleet;
  /** Its Redis key prefix's name. */
  name: string;
}

/** The fleet around `dir` (default: the current directory), refusing a broken inventory. */
export function openFleet(dir: string | undefined): OpenFleet {
  const start = path.resolve(dir ?? '.');
  const { fleetRoot } = findFleetRoot(start);
  if (!fleetRoot) throw new UserError(`reconcile fleet: no fleet.yaml in ${start} or above it (give --fleet DIR)`);
  const { fleet, diagnostics } = loadFleet(fleetRoot);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new UserError(errors.map(formatDiagnostic).join('\n'));
  return { fleet, name: fleet.name ?? path.basename(fleet.root) };
}
