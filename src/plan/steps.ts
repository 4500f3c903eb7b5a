import type { Host } from '../host/host.js';
import type { Step } from './types.js';

/**
 * Steps are data: `op` names a runner, `args` is what it needs. A kind declares the args of its
 * ops as one map (op → args type); `stepMaker` builds steps whose args are checked against it and
 * `typedRunners` gives each runner its args as that type, so neither side casts.
 * Args types are `type` aliases (not interfaces) so that they fit a step's `args` record.
 */

export interface StepContext {
  host: Host;
  /** Deadline for this step, from watchdog.stepTimeout or the kind's default. */
  timeoutMs: number;
  /** Resolved secret references: steps that need a secret read it here, never from the plan. */
  secrets: ReadonlyMap<string, string>;
  /** The fencing token of the host lock this apply holds; recorded where a step leaves a mark (the migrations version row). */
  fencingToken?: number;
}

export interface StepOutcome {
  /** done: it acted · already: the host already matched (re-checked at apply time) · skipped: live-only step under --root */
  status: 'done' | 'already' | 'skipped';
  detail?: string;
}

export type StepRunner = (step: Step, ctx: StepContext) => Promise<StepOutcome>;

/** Thrown by a step runner to fail the step with a message for humans (no stack trace shown). */
export class StepError extends Error {
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'StepError';
  }
}

/** Everything of a step but its op and args. */
export type StepMeta = Omit<Step, 'op' | 'args'>;

type ArgsMap<M> = { [Op in keyof M]: Record<string, unknown> };

/** A constructor for the steps of one args map: `make('mounts.umount', {path, lazy}, {id, title})`. */
export function stepMaker<M extends ArgsMap<M>>() {
  return <Op extends keyof M & string>(op: Op, args: M[Op], meta: StepMeta): Step => ({ ...meta, op, args });
}

export type TypedRunner<A> = (args: A, ctx: StepContext, step: Step) => Promise<StepOutcome>;

/**
 * The runners of one args map, keyed by op. A step reaches a runner only through its op, and
 * steps of that op are built only by `stepMaker` of the same map: the one place args are trusted.
 */
export function typedRunners<M extends ArgsMap<M>>(table: { [Op in keyof M]: TypedRunner<M[Op]> }): Record<string, StepRunner> {
  const out: Record<string, StepRunner> = {};
  for (const op of Object.keys(table) as (keyof M & string)[]) {
    const run = table[op];
    out[op] = (step, ctx) => run(step.args as M[typeof op], ctx, step);
  }
  return out;
}

// ---- the generic steps any kind may emit; their runners are in src/apply/ops.ts -------------

export type FileWriteArgs = {
  path: string;
  content: string;
  mode?: number;
  uid?: number;
  gid?: number;
  /** sha256 of the bytes observed at plan time; null when the file did not exist. */
  before: string | null;
};
export type SymlinkArgs = {
  path: string;
  target: string;
  /** The link's target observed at plan time (null: no link there); refused when it moved since. */
  before?: string | null;
};
export type RemoveArgs = {
  path: string;
  /** sha256 of the bytes observed at plan time; null: remove whatever is there. */
  before: string | null;
};
export type DirArgs = {
  path: string;
  mode?: number;
  uid?: number;
  gid?: number;
};
export type ExecArgs = {
  argv: string[];
  timeoutMs?: number;
};
/** A restart owed to a systemd unit, in the ledger of src/host/owed.ts. */
export type OweArgs = {
  unit: string;
  verb: 'restart' | 'reload';
};
export type SettleArgs = {
  unit: string;
};

export type GenericStepArgs = {
  'file.write': FileWriteArgs;
  'file.symlink': SymlinkArgs;
  'file.remove': RemoveArgs;
  'dir.ensure': DirArgs;
  'dir.removeIfEmpty': DirArgs;
  exec: ExecArgs;
  'restart.owe': OweArgs;
  'restart.settle': SettleArgs;
};

const generic = stepMaker<GenericStepArgs>();
type Meta = Partial<StepMeta>;

/** Write a whole file (checked against `before` at apply time). Id `file:PATH` unless given. */
export const fileWrite = (args: FileWriteArgs, meta: Meta = {}): Step => generic('file.write', args, { id: `file:${args.path}`, title: `write ${args.path}`, ...meta });
export const symlink = (args: SymlinkArgs, meta: Meta = {}): Step => generic('file.symlink', args, { id: `file:${args.path}`, title: `link ${args.path} -> ${args.target}`, ...meta });
export const fileRemove = (args: RemoveArgs, meta: Meta = {}): Step => generic('file.remove', args, { id: `file:${args.path}`, title: `remove ${args.path}`, ...meta });
export const dirEnsure = (args: DirArgs, meta: Meta = {}): Step => generic('dir.ensure', args, { id: `dir:${args.path}`, title: `create ${args.path}`, ...meta });
export const dirRemoveIfEmpty = (args: DirArgs, meta: Meta = {}): Step => generic('dir.removeIfEmpty', args, { id: `rmdir:${args.path}`, title: `remove ${args.path} if empty`, ...meta });
/** A command (argv, never a shell). Id `exec:ARGV` unless given. */
export const exec = (argv: string[], meta: Meta = {}, timeoutMs?: number): Step =>
  generic('exec', timeoutMs === undefined ? { argv } : { argv, timeoutMs }, { id: `exec:${argv.join(' ')}`, title: argv.join(' '), ...meta });

/**
 * A restart owed (src/host/owed.ts): noted before the files the unit reads are written, settled
 * after the restart ran, so an apply that stops in between leaves it to the next one. Live only:
 * under --root nothing is restarted, so nothing is owed.
 */
export const oweRestart = (args: OweArgs, meta: Meta = {}): Step => generic('restart.owe', args, { id: `owe:${args.unit}`, title: `note the ${args.verb} of ${args.unit} this change owes`, live: true, ...meta });
export const settleRestart = (args: SettleArgs, meta: Meta = {}): Step => generic('restart.settle', args, { id: `settle:${args.unit}`, title: `forget the owed restart of ${args.unit}`, live: true, ...meta });

/**
 * The one `systemctl daemon-reload` of an apply, shared by every kind that changes what systemd
 * reads (unit files, drop-ins, /etc/fstab through systemd-fstab-generator). Identical wherever it
 * is emitted, so the applier runs it once, after every file step.
 */
export const DAEMON_RELOAD_ID = 'exec:systemctl daemon-reload';
export const daemonReload = (): Step => exec(['systemctl', 'daemon-reload'], { id: DAEMON_RELOAD_ID, live: true, after: ['file:*', 'dir:*'] });
