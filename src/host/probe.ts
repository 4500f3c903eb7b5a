import { spawn } from 'node:child_process';
import { childEnv } from '../spec/secrets.js';

export interface ProbeResult {
  ok: boolean;
  ms: number;
  error?: string;
}

/**
 * The child: statfs then stat every path concurrently (statfs always reaches an NFS/FUSE server,
 * stat may be answered from the attribute cache) and prints one JSON line per path as it answers.
 * The thread pool is sized so one hung path cannot queue the others behind it.
 */
const CHILD = `
const fs = require('node:fs');
const paths = process.argv.slice(1);
for (const p of paths) {
  const t0 = performance.now();
  fs.statfs(p, (e1) => {
    const done = (e) => process.stdout.write(JSON.stringify({ p, ms: Math.round(performance.now() - t0), error: e ? e.code || String(e) : undefined }) + '\\n');
    if (e1) return done(e1);
    fs.stat(p, (e2) => done(e2));
  });
}
`;

/**
 * Stats mount points from one child process and returns within the deadline (plus a few ms),
 * even when the child is stuck in uninterruptible sleep: the child is SIGKILLed and abandoned.
 * Paths that did not answer are `{ok: false, error: 'no answer within …'}`.
 */
export function probeMounts(realPaths: string[], deadlineMs: number): Promise<Map<string, ProbeResult>> {
  const results = new Map<string, ProbeResult>();
  const unique = [...new Set(realPaths)];
  if (unique.length === 0) return Promise.resolve(results);
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['-e', CHILD, '--', ...unique], {
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...childEnv(), UV_THREADPOOL_SIZE: String(Math.min(1024, Math.max(4, unique.length * 2 + 2))) },
    });
    let buffered = '';
    let finished = false;
    const finish = (why?: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      const ms = Math.round(performance.now() - started);
      for (const p of unique) {
        if (!results.has(p)) results.set(p, { ok: false, ms, error: why ?? `no answer within ${deadlineMs} ms` });
      }
      if (child.exitCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      // A child in D state cannot die until the kernel lets it: do not wait for it.
      child.stdout?.destroy();
      child.unref();
      resolve(results);
    };
    const timer = setTimeout(() => finish(), deadlineMs);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const r = JSON.parse(line) as { p: string; ms: number; error?: string };
          results.set(r.p, r.error ? { ok: false, ms: r.ms, error: r.error } : { ok: true, ms: r.ms });
        } catch {
          /* not ours */
        }
      }
      if (results.size >= unique.length) finish();
    });
    child.on('error', (e) => finish(`probe could not start: ${e.message}`));
    child.on('close', () => finish('probe exited without an answer'));
  });
}
