import { UserError } from '../errors.js';
import { LockError } from '../locks/types.js';
import { redact } from '../spec/secrets.js';
import { VERSION } from '../version.js';

type Command = (argv: string[]) => Promise<number>;

// Each command is loaded only when it runs: start-up time is part of every plan.
const COMMANDS: Record<string, { load: () => Promise<Command>; about: string }> = {
  validate: { load: async () => (await import('./validate.js')).validateCommand, about: 'check specs: schema, rules, security lint' },
  plan: { load: async () => (await import('./plan.js')).planCommand, about: 'show what apply would change (exit 0 in sync, 2 changes)' },
  show: { load: async () => (await import('./show.js')).showCommand, about: 'print a plan saved by plan --out, as plan printed it' },
  apply: { load: async () => (await import('./apply.js')).applyCommand, about: 'make the host match the spec, then prove it' },
  doctor: { load: async () => (await import('./doctor.js')).doctorCommand, about: 'diagnose the host: disk IO, stale mounts, stuck processes, failed units' },
  db: { load: async () => (await import('./db.js')).dbCommand, about: 'db inspect SPEC [NAME]: tables and columns of a migrations entry\'s database' },
  drift: { load: async () => (await import('./drift.js')).driftCommand, about: 'report drift from the spec, once or --every DURATION (exit 0 none, 2 drift)' },
  facts: { load: async () => (await import('./facts.js')).factsCommand, about: 'record what plan observes, for plan --facts on another machine' },
  review: { load: async () => (await import('./review.js')).reviewCommand, about: 'risk of the spec changes since a git ref (exit 2 when risky)' },
  spec: { load: async () => (await import('./spec.js')).specCommand, about: "a host's spec with its fragments merged, each entry with its origin" },
  rollback: { load: async () => (await import('./rollback.js')).rollbackCommand, about: 'put back the files the last apply changed, as a plan first, then an apply' },
  pull: { load: async () => (await import('./pull.js')).pullCommand, about: "fetch a git repo, plan or --apply this host's spec at a ref" },
  fleet: { load: async () => (await import('./fleet.js')).fleetCommand, about: 'the fleet at run time, from its Redis: status, pause|resume|release rollouts, unblock, forget' },
};

const HELP = `usage: reconcile COMMAND [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)}${c.about}`)
  .join('\n')}

Every command takes --help, --no-color, --quiet, --verbose. NO_COLOR is honoured.
exit codes: 0 ok / in sync · 2 changes pending · 1 error`;

/** The one place errors become exit codes: 1 with a message, a stack only for internal errors with --verbose. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-V') {
    process.stdout.write(`reconcile ${VERSION}\n`);
    return 0;
  }
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return command ? 0 : 1;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`reconcile: unknown command "${command}" (see reconcile --help)\n`);
    return 1;
  }
  // The spec's git commit is recorded in every plan: ask git now, while the command loads.
  if (['plan', 'apply', 'drift'].includes(command) && rest[0] && !rest[0].startsWith('-')) {
    const spec = rest[0];
    void import('../plan/git.js').then((git) => git.gitInfo(spec));
  }
  try {
    return await (await entry.load())(rest);
  } catch (e) {
    const expected = e instanceof UserError || e instanceof LockError || isSystemError(e);
    const verbose = rest.includes('--verbose') || rest.includes('-v');
    const message = expected
      ? (e as Error).message
      : `reconcile: internal error: ${(e as Error)?.message ?? String(e)}${verbose ? `\n${(e as Error)?.stack ?? ''}` : ' (run with --verbose for details)'}`;
    // The last line of defence: whatever the message quotes, no resolved secret leaves.
    process.stderr.write(`${redact(message)}\n`);
    // A machine reading --format json gets an answer on stdout too.
    if (rest.some((a, i) => (a === '--format' && rest[i + 1] === 'json') || a === '--format=json')) {
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
