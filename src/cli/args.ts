import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../errors.js';

/** Flags every command takes. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  'no-color': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  verbose: { type: 'boolean', short: 'v' },
} as const satisfies ParseArgsConfig['options'];

export interface CommonFlags {
  help?: boolean;
  'no-color'?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/** node:util parseArgs with our error form: an unknown flag is a usage error, exit 1. */
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(command: string, argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UserError(`reconcile ${command}: ${(e as Error).message.split('\n')[0]} (see reconcile ${command} --help)`);
  }
}

export function oneOf<T extends string>(command: string, flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UserError(`reconcile ${command}: --${flag} must be one of ${allowed.join(', ')}, not "${value}"`);
}
