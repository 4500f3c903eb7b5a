import { UserError } from '../errors.js';
import { closest } from '../distance.js';
import { parse } from './args.js';
import { COMMANDS, type CommandName } from './definitions.js';
import { bashCompletion, commandHelp, topHelp } from './docs.js';

/** `reconcile help [COMMAND]`: the same text as `reconcile COMMAND --help`. */
export async function helpCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('help', argv);
  if (values.help) return print(commandHelp('help'));
  if (positionals.length === 0) return print(topHelp());
  const name = positionals[0]!;
  if (positionals.length > 1) throw new UserError(`reconcile help: expected one COMMAND, got ${positionals.length} (see reconcile help help)`);
  if (!Object.hasOwn(COMMANDS, name)) {
    const guess = closest(name, Object.keys(COMMANDS));
    throw new UserError(`reconcile help: unknown command "${name}"${guess ? `; did you mean ${guess}?` : ''} (the commands: ${Object.keys(COMMANDS).join(', ')})`);
  }
  return print(commandHelp(name as CommandName));
}

/** `reconcile completion bash`: the script that completion/reconcile.bash holds too. */
export async function completionCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('completion', argv);
  if (values.help) return print(commandHelp('completion'));
  if (positionals.length !== 1 || positionals[0] !== 'bash') {
    throw new UserError(`reconcile completion: ${positionals[0] === undefined ? 'expected a shell' : `no completion for "${positionals[0]}"`}; the one there is: bash (see reconcile help completion)`);
  }
  return print(bashCompletion());
}

function print(text: string): number {
  process.stdout.write(text);
  return 0;
}
