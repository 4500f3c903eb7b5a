import { Host, type FileFacts, type FileStat } from './host.js';
import type { ExecOptions, ExecResult } from './exec.js';
import type { ProbeResult } from './probe.js';
import { createHash } from 'node:crypto';
import { UserError } from '../errors.js';
import { VERSION } from '../version.js';
import { maskOptionPasswords } from '../spec/secrets.js';

/**
 * Facts: every answer the Host gave while a plan observed, so the same plan can be made on a
 * machine that is not the host (CI). Recorded at the Host layer, so kinds need no facts code:
 * whatever they read through the Host is captured, whatever they read around it is not.
 */
export const FACTS_FORMAT_VERSION = 1;

export interface FactsSnapshot {
  formatVersion: number;
  kind: 'reconcile-facts';
  tool: { name: 'reconcile'; version: string };
  root: string;
  hostname: string;
  recordedAt: string;
  /** The specs whose observation was recorded; another spec may need calls that are not here. */
  specs: { path: string; sha256: string }[];
  /** By call key (`method json-args`): what it returned, or the error it threw. */
  calls: Record<string, Recorded>;
}

export type Recorded = { value: unknown } | { error: string; code?: string; user?: boolean };

/** The key of one call: method and arguments, with exec input hashed (it may carry secrets). */
export function callKey(method: string, args: unknown[]): string {
  return `${method} ${JSON.stringify(args)}`;
}

function execKey(argv: string[], options: ExecOptions | undefined): string {
  const text = options?.inputKey ?? options?.input;
  const input = text === undefined ? undefined : createHash('sha256').update(text).digest('hex').slice(0, 16);
  return callKey('exec', [argv, { cwd: options?.cwd, input }]);
}

/**
 * A CIFS line may still carry `password=` (until apply moves it to a credentials file): a
 * snapshot shipped to CI keeps the line, not the password.
 */
function maskFstabPasswords(b: Buffer | null): Buffer | null {
  return b === null ? null : Buffer.from(maskOptionPasswords(b.toString('utf8')));
}

// Values are JSON: Buffers as base64, Maps as entry lists.
const encodeBuffer = (b: Buffer | null) => (b === null ? null : b.toString('base64'));
const decodeBuffer = (v: unknown) => (v === null ? null : Buffer.from(v as string, 'base64'));

/** A Host that answers as the machine does and remembers every answer. */
export class RecordingHost extends Host {
  readonly calls: Record<string, Recorded> = {};

  protected async record<T>(key: string, run: () => Promise<T>, encode: (v: T) => unknown = (v) => v): Promise<T> {
    try {
      const value = await run();
      this.keep(key, { value: encode(value) });
      return value;
    } catch (e) {
      this.keep(key, { error: (e as Error).message, code: (e as NodeJS.ErrnoException).code, user: e instanceof UserError || undefined });
      throw e;
    }
  }

  /** The first answer wins: a plan observes once; later reads (after a write) are not facts. */
  protected keep(key: string, answer: Recorded): void {
    this.calls[key] ??= answer;
  }

  override read(hostPath: string): Promise<Buffer | null> {
    return this.record(callKey('read', [hostPath]), () => super.read(hostPath), (b) => encodeBuffer(hostPath === '/etc/fstab' ? maskFstabPasswords(b) : b));
  }
  override readLive(kernelPath: string): Promise<string | null> {
    return this.record(callKey('readLive', [kernelPath]), () => super.readLive(kernelPath));
  }
  override lstat(hostPath: string): Promise<FileStat | null> {
    return this.record(callKey('lstat', [hostPath]), () => super.lstat(hostPath));
  }
  override readlink(hostPath: string): Promise<string | null> {
    return this.record(callKey('readlink', [hostPath]), () => super.readlink(hostPath));
  }
  override readdir(hostPath: string): Promise<string[] | null> {
    return this.record(callKey('readdir', [hostPath]), () => super.readdir(hostPath));
  }
  override list(hostPath: string): Promise<{ name: string; type: FileStat['type'] }[] | null> {
    return this.record(callKey('list', [hostPath]), () => super.list(hostPath));
  }
  override fileFacts(hostPath: string): Promise<FileFacts | null> {
    // Recorded as the keyed digest only (the base class reads the bytes around this recorder).
    return this.record(callKey('fileFacts', [hostPath]), () => super.fileFacts(hostPath));
  }
  override exists(hostPath: string): Promise<boolean> {
    return this.record(callKey('exists', [hostPath]), () => super.exists(hostPath));
  }

  override exec(argv: string[], options?: ExecOptions): Promise<ExecResult> {
    return this.record(execKey(argv, options), () => super.exec(argv, options));
  }
  override probeMounts(realPaths: string[], deadlineMs: number): Promise<Map<string, ProbeResult>> {
    return this.record(callKey('probeMounts', [realPaths]), () => super.probeMounts(realPaths, deadlineMs), (m) => [...m]);
  }

  snapshot(specs: { path: string; sha256: string }[], now = new Date()): FactsSnapshot {
    const sorted = Object.fromEntries(Object.entries(this.calls).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return {
      formatVersion: FACTS_FORMAT_VERSION,
      kind: 'reconcile-facts',
      tool: { name: 'reconcile', version: VERSION },
      root: this.root,
      hostname: this.hostname(),
      recordedAt: now.toISOString(),
      specs,
      calls: sorted,
    };
  }
}

/**
 * A Host that answers only from a snapshot: it never touches this machine, and refuses every
 * write (planning does not write; an apply against facts would be a mistake).
 */
export class ReplayingHost extends Host {
  constructor(
    private readonly facts: FactsSnapshot,
    private readonly source: string,
  ) {
    super(facts.root);
  }

  private answer(key: string): unknown {
    const r = this.facts.calls[key];
    if (!r) {
      const specs = this.facts.specs.map((s) => s.path).join(', ') || 'no spec';
      throw new UserError(`${this.source}: the facts snapshot has no answer for ${key} (it was recorded with ${specs}); record facts with this spec: reconcile facts SPEC > snapshot.json`);
    }
    // The same failure as on the host: a user-facing refusal stays one, an errno keeps its code.
    if ('error' in r) throw r.user ? new UserError(r.error) : Object.assign(new Error(r.error), r.code ? { code: r.code } : {});
    return r.value;
  }

  override async read(hostPath: string): Promise<Buffer | null> {
    return decodeBuffer(this.answer(callKey('read', [hostPath])));
  }
  override async readLive(kernelPath: string): Promise<string | null> {
    return this.answer(callKey('readLive', [kernelPath])) as string | null;
  }
  override async lstat(hostPath: string): Promise<FileStat | null> {
    return this.answer(callKey('lstat', [hostPath])) as FileStat | null;
  }
  override async readlink(hostPath: string): Promise<string | null> {
    return this.answer(callKey('readlink', [hostPath])) as string | null;
  }
  override async readdir(hostPath: string): Promise<string[] | null> {
    return this.answer(callKey('readdir', [hostPath])) as string[] | null;
  }
  override async list(hostPath: string): Promise<{ name: string; type: FileStat['type'] }[] | null> {
    return this.answer(callKey('list', [hostPath])) as { name: string; type: FileStat['type'] }[] | null;
  }
  override async fileFacts(hostPath: string): Promise<FileFacts | null> {
    return this.answer(callKey('fileFacts', [hostPath])) as FileFacts | null;
  }
  /** The host's key never leaves it: a plan from a snapshot cannot compare a secret file's content. */
  override digestKey(): Promise<Buffer | null> {
    return Promise.resolve(null);
  }
  override loadedDigestKey(): Promise<Buffer | null> {
    return Promise.resolve(null);
  }
  override async exists(hostPath: string): Promise<boolean> {
    return this.answer(callKey('exists', [hostPath])) as boolean;
  }
  override async exec(argv: string[], options?: ExecOptions): Promise<ExecResult> {
    return this.answer(execKey(argv, options)) as ExecResult;
  }
  override async probeMounts(realPaths: string[]): Promise<Map<string, ProbeResult>> {
    return new Map(this.answer(callKey('probeMounts', [realPaths])) as [string, ProbeResult][]);
  }
  override hostname(): string {
    return this.facts.hostname;
  }
  override writeFile(): Promise<undefined> {
    return refuseWrite();
  }
  override symlink(): Promise<void> {
    return refuseWrite();
  }
  override ensureDir(): Promise<void> {
    return refuseWrite();
  }
  override removeFile(): Promise<void> {
    return refuseWrite();
  }
  override removeDirIfEmpty(): Promise<boolean> {
    return refuseWrite();
  }
}

function refuseWrite(): Promise<never> {
  return Promise.reject(new UserError('a facts snapshot is read-only: plan against it, apply on the host itself'));
}

/** Reads and checks a snapshot written by `reconcile facts`. */
export function parseFacts(text: string, source: string): FactsSnapshot {
  let facts: FactsSnapshot;
  try {
    facts = JSON.parse(text) as FactsSnapshot;
  } catch (e) {
    throw new UserError(`${source}: not a facts snapshot (${(e as Error).message})`);
  }
  if (facts?.kind !== 'reconcile-facts' || typeof facts.calls !== 'object' || typeof facts.root !== 'string') {
    throw new UserError(`${source}: not a facts snapshot (record one with: reconcile facts SPEC > snapshot.json)`);
  }
  if (facts.formatVersion !== FACTS_FORMAT_VERSION) {
    throw new UserError(`${source}: facts format version ${facts.formatVersion} is not supported (this reconcile reads ${FACTS_FORMAT_VERSION})`);
  }
  return facts;
}
