import { sha256 } from '../hash.js';
import { callKey, RecordingHost, type Recorded } from './facts.js';
import { Host } from './host.js';
import type { ExecOptions, ExecResult } from './exec.js';
import type { ProbeResult } from './probe.js';

/**
 * A trace of what a plan read from the machine: every call made through the Host, by call key
 * (method and arguments, as facts key them), with a digest of its answer. A plan is a pure function
 * of the spec and these answers, so when every call answers the same again, the plan is the same:
 * that is what lets a converged plan be taken from the memo (src/apply/memo.ts) without loading a
 * kind or parsing a file. The digests cover the whole answer (file bytes, command output, errors),
 * never a timestamp: nothing is trusted because it looks unchanged, only because it reads the same.
 */
export type Trace = Record<string, string>;

export class TracingHost extends RecordingHost {
  /** Why this trace does not cover everything the plan depended on; a memo is then not kept. */
  incomplete: string | undefined;

  protected override keep(key: string, answer: Recorded): void {
    if (!(key in this.calls)) this.calls[key] = { value: sha256(JSON.stringify(answer), 'base64') };
  }

  /** The digests, by call key. */
  trace(): Trace {
    return Object.fromEntries(Object.entries(this.calls).map(([k, r]) => [k, (r as { value: string }).value]));
  }

  // A secret file's keyed digest needs the host's key, which a trace must not depend on or keep.
  override fileFacts(hostPath: string) {
    this.incomplete ??= `the keyed digest of ${hostPath}`;
    return Host.prototype.fileFacts.call(this, hostPath);
  }
  override digestKey() {
    this.incomplete ??= "the host's digest key";
    return Host.prototype.digestKey.call(this);
  }

  /** The file's digest straight from its bytes (facts keep them as base64: more to hash, nothing gained). */
  override read(hostPath: string): Promise<Buffer | null> {
    return this.record(callKey('read', [hostPath]), () => Host.prototype.read.call(this, hostPath), (b) => (b === null ? null : sha256(b, 'base64')));
  }

  /** Keyed with what running it again takes (facts key by a digest of the input: not replayable). */
  override exec(argv: string[], options?: ExecOptions): Promise<ExecResult> {
    if (options?.input !== undefined || options?.inputKey !== undefined || options?.env !== undefined) {
      this.incomplete ??= `the command ${argv[0]} with input or environment`;
      return Host.prototype.exec.call(this, argv, options);
    }
    const replay = { cwd: options?.cwd, timeoutMs: options?.timeoutMs };
    return this.record(callKey('exec', [argv, replay]), () => Host.prototype.exec.call(this, argv, options), execAnswer);
  }

  /** How long each probe took is not part of the answer; whether it answered, and how it failed, is. */
  override probeMounts(realPaths: string[], deadlineMs: number): Promise<Map<string, ProbeResult>> {
    return this.record(callKey('probeMounts', [realPaths, deadlineMs]), () => Host.prototype.probeMounts.call(this, realPaths, deadlineMs), (m) =>
      [...m].map(([p, r]) => [p, r.ok, r.error ?? null]),
    );
  }
}

/** What a command said, without when and how long (pid, duration): those differ every run. */
function execAnswer(r: ExecResult): unknown {
  return [r.exitCode, r.signal, r.stdout, r.stderr, r.timedOut, r.failedToStart];
}

/**
 * Asks every call of the trace again, on a fresh Host of the same root, and says whether each
 * answers as it did; the first that does not is named (for tests and debugging).
 */
export async function verifyTrace(trace: Trace, root: string): Promise<{ same: true } | { same: false; differs: string }> {
  const host = new TracingHost(root);
  const keys = Object.keys(trace);
  // Files one after another: once the first of a directory resolved it, the Host reads the rest
  // with no turn of the event loop (hundreds of files from a few directories). Commands and the
  // rest meanwhile, all at once.
  // The first file that reads otherwise ends them: on a host that changed (an apply's plan
  // under its lock), the rest would be read for nothing.
  const answered = (k: string) => (host.calls[k] as { value?: string } | undefined)?.value;
  const isFile = (k: string) => k.startsWith('read ') || k.startsWith('lstat ');
  let differs: string | undefined;
  const askFiles = async () => {
    for (const key of keys) {
      if (!isFile(key)) continue;
      await ask(host, key).catch(() => undefined);
      if (answered(key) !== trace[key]) return void (differs = key);
    }
  };
  await Promise.all([askFiles(), ...keys.filter((k) => !isFile(k)).map((key) => ask(host, key).catch(() => undefined))]);
  differs ??= keys.find((k) => answered(k) !== trace[k]);
  return differs === undefined ? { same: true } : { same: false, differs };
}

type Replayable = 'read' | 'readLive' | 'lstat' | 'readlink' | 'readdir' | 'list' | 'exists';
const REPLAYABLE = new Set<string>(['read', 'readLive', 'lstat', 'readlink', 'readdir', 'list', 'exists']);

function ask(host: TracingHost, key: string): Promise<unknown> {
  const space = key.indexOf(' ');
  const method = key.slice(0, space);
  const args = JSON.parse(key.slice(space + 1)) as unknown[];
  if (method === 'exec') {
    const [argv, o] = args as [string[], { cwd?: string; timeoutMs?: number }];
    return host.exec(argv, { ...(o.cwd !== undefined ? { cwd: o.cwd } : {}), ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}) });
  }
  if (method === 'probeMounts') return host.probeMounts(args[0] as string[], args[1] as number);
  if (REPLAYABLE.has(method)) return (host[method as Replayable] as (p: string) => Promise<unknown>)(args[0] as string);
  // A call this version cannot ask again: the trace cannot be confirmed.
  return Promise.reject(new Error(`cannot replay ${method}`));
}
