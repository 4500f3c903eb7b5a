import { UserError } from '../errors.js';
import { LockError } from '../locks/types.js';
import { redact } from '../spec/secrets.js';
import { VERSION } from '../version.js';
import { closest } from '../distance.js';
import type { CommandName } from './definitions.js';
import { topHelp } from './docs.js';
import { isAnswered } from './args.js';

type Command = (argv: string[]) => Promise<number>;

// Each command is loaded only when it runs: start-up time is part of every plan. What each takes
// and says in its help is in definitions.ts (pure data, read here without loading any command).
const COMMAND_MODULES: Record<CommandName, () => Promise<Command>> = {
  validate: async () => (await import('./validate.js')).validateCommand,
  plan: async () => (await import('./plan.js')).planCommand,
  show: async () => (await import('./show.js')).showCommand,
  apply: async () => (await import('./apply.js')).applyCommand,
  doctor: async () => (await import('./doctor.js')).doctorCommand,
  db: async () => (await import('./db.js')).dbCommand,
  drift: async () => (await import('./drift.js')).driftCommand,
  facts: async () => (await import('./facts.js')).factsCommand,
  review: async () => (await import('./review.js')).reviewCommand,
  spec: async () => (await import('./spec.js')).specCommand,
  rollback: async () => (await import('./rollback.js')).rollbackCommand,
  pull: async () => (await import('./pull.js')).pullCommand,
  fleet: async () => (await import('./fleet.js')).fleetCommand,
  help: async () => (await import('./help.js')).helpCommand,
  completion: async () => (await import('./help.js')).completionCommand,
};

/** The one place errors become exit codes: 1 with a message, a stack only for internal errors with --verbose. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-V') {
    process.stdout.write(`reconcile ${VERSION}\n`);
    return 0;
  }
  if (!command || command === '--help' || command === '-h') {
    process.stdout.write(topHelp());
    return command ? 0 : 1;
  }
  const load = Object.hasOwn(COMMAND_MODULES, command) ? COMMAND_MODULES[command as CommandName] : undefined;
  if (!load) {
    const guess = closest(command, Object.keys(COMMAND_MODULES));
    process.stderr.write(`reconcile: unknown command "${command}"${guess ? `; did you mean ${guess}?` : ''} (see reconcile --help)\n`);
    return 1;
  }
  // The spec's git commit is recorded in every apply and drift report: ask git now, while the
  // command loads. plan asks only when its output shows or keeps it (src/cli/plan.ts).
  if (['apply', 'drift'].includes(command) && rest[0] && !rest[0].startsWith('-')) {
    const spec = rest[0];
    void import('../plan/git.js').then((git) => git.gitInfo(spec));
  }
  try {
    return await (await load())(rest);
  } catch (e) {
    const expected = e instanceof UserError || e instanceof LockError || isSystemError(e);
    const verbose = rest.includes('--verbose') || rest.includes('-v');
    const message = expected
      ? (e as Error).message
      : `reconcile: internal error: ${(e as Error)?.message ?? String(e)}${verbose ? `\n${(e as Error)?.stack ?? ''}` : ' (run with --verbose for details)'}`;
    // The last line of defence: whatever the message quotes, no resolved secret leaves.
    process.stderr.write(`${redact(message)}\n`);
    // A machine reading --format json gets an answer on stdout too.
    if (!isAnswered(e) && rest.some((a, i) => (a === '--format' && rest[i + 1] === 'json') || a === '--format=json')) {
      process.stdout.write(`${redact(JSON.stringify({ formatVersion: 1, ok: false, error: (e as Error)?.message ?? String(e) }))}\n`);
    }
    return 1;
  }
}

/** An operating-system error on a path the user named (ENOENT, EACCES, EISDIR...): said in one line. */
function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code) || !(e instanceof Error)) return false;
  const err = e as NodeJS.ErrnoException;
  err.message = `reconcile: ${err.path ? `${err.path}: ` : ''}${SYSTEM_ERRORS[code] ?? code} (${code})`;
  return true;
}

const SYSTEM_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EEXIST: 'already exists',
};
