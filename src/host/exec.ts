/**
 * The one exec layer: argv arrays only (never a shell), a deadline on every command,
 * and the same result shape whether the command succeeded, failed or timed out.
 */
export interface ExecResult {
  argv: string[];
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  /** The command could not be started at all (ENOENT, EACCES). */
  failedToStart: boolean;
  ok: boolean;
}

export interface ExecOptions {
  timeoutMs?: number;
  /** Grace period between SIGTERM and SIGKILL once the deadline passes. */
  killGraceMs?: number;
  input?: string;
  env?: Record<string, string>;
  cwd?: string;
}

export const DEFAULT_TIMEOUT_MS = 120_000;

// execa is imported lazily: a converged plan that runs no command should not pay for loading it.
let execaModule: Promise<typeof import('execa')> | undefined;

export async function exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
  if (argv.length === 0) throw new Error('exec: empty argv');
  const { execa } = await (execaModule ??= import('execa'));
  const started = performance.now();
  const result = await execa(argv[0]!, argv.slice(1), {
    reject: false,
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    forceKillAfterDelay: options.killGraceMs ?? 5_000,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : undefined,
    env: options.env,
    extendEnv: true,
    cwd: options.cwd,
    stripFinalNewline: false,
    // A step's children form their own process group so the watchdog can end all of them.
    detached: true,
    cleanup: true,
  });
  const failedToStart = result.exitCode === undefined && !result.timedOut && !result.signal;
  return {
    argv: [...argv],
    exitCode: result.exitCode ?? null,
    signal: result.signal ?? null,
    stdout: String(result.stdout ?? ''),
    stderr: failedToStart ? String(result.originalMessage ?? result.message) : String(result.stderr ?? ''),
    durationMs: Math.round(performance.now() - started),
    timedOut: result.timedOut,
    failedToStart,
    ok: result.exitCode === 0 && !result.timedOut,
  };
}

/** How a failed command is shown to a human: the argv, why it failed, the end of its stderr. */
export function describeFailure(r: ExecResult): string {
  const cmd = r.argv.join(' ');
  if (r.failedToStart) return `${cmd}: could not start (${r.stderr.trim()})`;
  if (r.timedOut) return `${cmd}: no answer within its deadline after ${r.durationMs} ms, killed`;
  const why = r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`;
  const tail = r.stderr.trim().split('\n').slice(-10).join('\n');
  return `${cmd}: ${why}${tail ? `\n${tail}` : ''}`;
}
