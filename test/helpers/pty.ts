import { spawn } from 'node:child_process';
import { BIN, REPO } from './cli.js';

/**
 * Runs the built CLI on a pseudo-terminal (as an operator at a shell: stdin and stdout are a TTY),
 * and answers once when `prompt` shows. Python's pty module makes the terminal: argv only, no shell.
 * Output is stdout and stderr as the terminal showed them.
 */
export function runOnTty(args: string[], answer: { prompt: string; with: string }, options: { timeoutMs?: number } = {}): Promise<{ exitCode: number; output: string; prompted: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', 'import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))', process.execPath, BIN, ...args], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let prompted = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString('utf8');
      if (!prompted && output.includes(answer.prompt)) {
        prompted = true;
        child.stdin.write(`${answer.with}\n`);
      }
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ exitCode: code ?? 1, output, prompted });
    });
  });
}
