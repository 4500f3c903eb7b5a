import { parseArgs } from 'node:util';
import { UserError } from '../errors.js';
import { durationTooLong, parseDuration } from '../duration.js';
import { closest } from '../distance.js';
import { COMMANDS, COMMON_OPTIONS, type CommandName, type OptionDef } from './definitions.js';

export { COMMON_OPTIONS } from './definitions.js';

export interface CommonFlags {
  help?: boolean;
  'no-color'?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

type Options<N extends CommandName> = typeof COMMON_OPTIONS & (typeof COMMANDS)[N]['options'];
type Value<O> = O extends { type: 'boolean' } ? (O extends { multiple: true } ? boolean[] : boolean) : O extends { multiple: true } ? string[] : string;
/** The flags given, typed by the definition: absent ones are undefined. */
export type Values<N extends CommandName> = { [K in keyof Options<N>]?: Value<Options<N>[K]> };

/**
 * The command's argv parsed by its definition (src/cli/definitions.ts). Usage errors are ours, in
 * words, exit 1: an unknown flag names the nearest real one; Node's parser text never reaches the user.
 */
export function parse<N extends CommandName>(command: N, argv: string[]): { values: Values<N>; positionals: string[] } {
  const options = { ...COMMON_OPTIONS, ...COMMANDS[command].options } as Options<N>;
  checkFlags(command, argv, options);
  try {
    // Only what parseArgs knows of each option: the rest of the definition is for help and completion.
    const config = Object.fromEntries(
      Object.entries(options as Record<string, OptionDef>).map(([name, o]) => [name, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }]),
    );
    const { values, positionals } = parseArgs({ args: argv, options: config, allowPositionals: true, strict: true });
    return { values: values as Values<N>, positionals };
  } catch (e) {
    // checkFlags saw everything parseArgs rejects; this is the net under it.
    throw new UserError(`reconcile ${command}: cannot read the arguments (${(e as NodeJS.ErrnoException).code ?? 'parse error'}) (see reconcile help ${command})`);
  }
}

/** Every flag of argv is one the command takes, with a value exactly when it takes one. */
function checkFlags(command: string, argv: string[], options: Record<string, OptionDef>): void {
  const see = `(see reconcile help ${command})`;
  const byShort = new Map(Object.entries(options).flatMap(([name, o]) => (o.short ? [[o.short, name] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return;
    if (!arg.startsWith('-') || arg === '-') continue;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const o = options[name];
      if (!o) {
        const guess = closest(name, Object.keys(options));
        throw new UserError(`reconcile ${command}: unknown option --${name}${guess ? `; did you mean --${guess}?` : ''} ${see}`);
      }
      if (o.type === 'boolean' && eq >= 0) throw new UserError(`reconcile ${command}: --${name} takes no value ${see}`);
      if (o.type === 'string' && eq < 0) i = needValue(command, `--${name}`, o, argv, i, see);
      continue;
    }
    // -abc: a cluster of short flags; a string one takes the rest of the word or the next word.
    for (let k = 1; k < arg.length; k++) {
      const name = byShort.get(arg[k]!);
      if (!name) {
        throw new UserError(`reconcile ${command}: unknown option -${arg[k]}${arg.length > 2 ? ` (in ${arg})` : ''}; ${arg.length > 2 ? `long options take two dashes (--${arg.slice(1)}); ` : ''}the short ones are ${[...byShort.keys()].map((s) => `-${s}`).join(' ')} ${see}`);
      }
      if (options[name]!.type === 'string') {
        if (k === arg.length - 1) i = needValue(command, `-${arg[k]}`, options[name]!, argv, i, see);
        break;
      }
    }
  }
}

function needValue(command: string, flag: string, o: OptionDef, argv: string[], i: number, see: string): number {
  const next = argv[i + 1];
  if (next === undefined || (next.startsWith('-') && next !== '-')) {
    throw new UserError(`reconcile ${command}: ${flag} needs a value (${flag} ${o.value ?? 'VALUE'}${next !== undefined ? `; a value starting with a dash is written ${flag}=${next}` : ''}) ${see}`);
  }
  return i + 1;
}

export function oneOf<T extends string>(command: string, flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  const guess = closest(value, allowed);
  throw new UserError(`reconcile ${command}: --${flag} must be one of ${allowed.join(', ')}, not "${value}"${guess ? ` (did you mean ${guess}?)` : ''}`);
}

/** A duration flag (`500ms`, `2s`, `1h30m`) in milliseconds; `zero` also takes a bare 0. */
export function durationFlag(command: string, flag: string, value: string | undefined, o: { zero?: boolean } = {}): number | undefined {
  if (value === undefined) return undefined;
  if (o.zero && value === '0') return 0;
  const ms = parseDuration(value);
  if (ms === undefined) {
    const tooLong = durationTooLong(value);
    throw new UserError(`reconcile ${command}: --${flag} takes a duration such as 500ms, 30s or 5m${o.zero ? ' (0: do not wait)' : ''}, not "${value}"${tooLong ? ` (${tooLong})` : ''}`);
  }
  return ms;
}

/** --lock-timeout: how long to wait for a held lock; 0 fails at once. */
export function lockTimeout(command: string, value: string | undefined): number | undefined {
  return durationFlag(command, 'lock-timeout', value, { zero: true });
}

const answered = new WeakSet<object>();

/** A command that already answered an error on stdout (a JSON stream's last event): main adds no JSON of its own. */
export function markAnswered(e: unknown): void {
  if (typeof e === 'object' && e !== null) answered.add(e);
}

export function isAnswered(e: unknown): boolean {
  return typeof e === 'object' && e !== null && answered.has(e);
}
