import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { main } from '../../src/cli/main.js';

export const REPO = path.resolve(import.meta.dirname, '..', '..');
export const BIN = path.join(REPO, 'bin', 'reconcile');

export interface CliResult {
  exitCode: number;
  stdout: string;
  /** What the command said on stderr besides apply's per-step progress lines (errors, warnings, notes). */
  stderr: string;
  /** Apply's progress lines ("reconcile apply: [2/5] started: ..."), printed when stderr is not a terminal. */
  progress: string;
  /** stderr as written. */
  rawStderr: string;
}

export const PROGRESS_LINE = /^reconcile [a-z]+: \[\d+\/\d+\] (started|done|already|skipped|failed|not run)\b.*\n?/gm;

/** Runs the built CLI as a user would: a separate process, no TTY, NO_COLOR. */
export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: options.cwd ?? REPO, env: { ...process.env, NO_COLOR: '1', ...options.env }, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error && typeof (error as NodeJS.ErrnoException).code === 'number' ? Number((error as NodeJS.ErrnoException).code) : error ? 1 : 0;
        resolve({ exitCode: code, stdout, stderr: stderr.replace(PROGRESS_LINE, ''), progress: (stderr.match(PROGRESS_LINE) ?? []).join(''), rawStderr: stderr });
      },
    );
  });
}

export interface Outcome {
  exitCode: number | 'timeout';
  stdout: string;
  stderr: string;
  ms: number;
}

let capturing = false;

/** main() in this process with stdout and stderr captured; 'timeout' when it has not answered in time. */
export async function runInProcess(argv: string[], timeoutMs: number): Promise<Outcome> {
  if (capturing) throw new Error('runInProcess: one at a time');
  capturing = true;
  const out: string[] = [];
  const err: string[] = [];
  const { stdout, stderr } = process;
  const realOut = stdout.write;
  const realErr = stderr.write;
  const capture = (into: string[]) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const cb = rest.find((x) => typeof x === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof stdout.write;
  stdout.write = capture(out);
  stderr.write = capture(err);
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const code = await Promise.race([
      main(argv).catch((e: unknown) => {
        err.push(`main() rejected: ${(e as Error)?.stack ?? String(e)}`);
        return 99;
      }),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      }),
    ]);
    return { exitCode: code, stdout: out.join(''), stderr: err.join(''), ms: Math.round(performance.now() - t0) };
  } finally {
    clearTimeout(timer);
    stdout.write = realOut;
    stderr.write = realErr;
    capturing = false;
  }
}
