/** `reconcile fleet SUBCOMMAND`: the fleet at run time (DESIGN §8.4, §8.5). Each subcommand loads only when it runs. */
import { UserError } from '../errors.js';

type Command = (argv: string[]) => Promise<number>;

const SUBCOMMANDS: Record<string, { load: () => Promise<Command>; about: string }> = {
  status: { load: async () => (await import('./fleet-status.js')).fleetStatusCommand, about: 'every host\'s last report and what needs attention (exit 2 when something does)' },
  forget: { load: async () => (await import('./fleet-status.js')).fleetForgetCommand, about: 'forget a decommissioned host\'s status, recorded' },
  unblock: { load: async () => (await import('./fleet-status.js')).fleetUnblockCommand, about: 'let a host blocked by after: go once, recorded' },
};

export const FLEET_HELP = `usage: reconcile fleet SUBCOMMAND [options]   (run in the fleet's repository)

${Object.entries(SUBCOMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)}${c.about}`)
  .join('\n')}`;

export async function fleetCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    process.stdout.write(`${FLEET_HELP}\n`);
    return sub ? 0 : 1;
  }
  const entry = SUBCOMMANDS[sub];
  if (!entry) throw new UserError(`reconcile fleet: unknown subcommand "${sub}" (see reconcile fleet --help)`);
  return (await entry.load())(rest);
}
