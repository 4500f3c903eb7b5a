import { runWithWatchdog, type WatchdogResult } from './watchdog.js';

/**
 * The one exec layer: argv arrays only (never a shell), a watchdog deadline on every command,
 * and the same result shape whether the command succeeded, failed, hung or could not start.
 *
 * It runs on the watchdog (node:child_process) rather than execa: a command that hangs must have
 * its whole process group inspected (state, wchan, mounts) before it is killed, and loading execa
 * cost ~110 ms of every CLI start, half the budget of a converged plan.
 */
/** argv, exit code or signal, stdout, stderr, duration, timedOut, failedToStart, ok, and the hang report. */
export type ExecResult = WatchdogResult;

export interface ExecOptions {
  timeoutMs?: number;
  /** Grace period between SIGTERM and SIGKILL once the deadline passes. */
  killGraceMs?: number;
  input?: string;
  /** What facts key this call by instead of `input`, when the input carries the host's digest key. */
  inputKey?: string;
  env?: Record<string, string>;
  cwd?: string;
  /** What the command does, in words, for the hang report. */
  describe?: string;
}

export const DEFAULT_TIMEOUT_MS = 120_000;

export async function exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
  if (argv.length === 0) throw new Error('exec: empty argv');
  return runWithWatchdog(argv, {
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    graceMs: options.killGraceMs ?? 5_000,
    input: options.input,
    env: options.env,
    cwd: options.cwd,
    describe: options.describe,
  });
}
