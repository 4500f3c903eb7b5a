import { createHash } from 'node:crypto';
import { describeFailure } from '../host/exec.js';
import { StepError, type StepRunner } from '../resources/types.js';

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Generic step types any kind may emit. Every runner re-checks the host right before it acts:
 * it does nothing when the host already matches, and refuses when the file is no longer what the
 * plan was computed from (someone edited it in between).
 */
export interface FileWriteArgs {
  path: string;
  content: string;
  mode?: number;
  uid?: number;
  gid?: number;
  /** sha256 of the bytes observed at plan time; null when the file did not exist. */
  before: string | null;
}
export interface SymlinkArgs {
  path: string;
  target: string;
  /** The link's target observed at plan time (null: no link there); refused when it moved since. */
  before?: string | null;
}
export interface RemoveArgs {
  path: string;
  before: string | null;
}
export interface DirArgs {
  path: string;
  mode?: number;
  uid?: number;
  gid?: number;
}
export interface ExecArgs {
  argv: string[];
  timeoutMs?: number;
}

const fileWrite: StepRunner = async (step, { host }) => {
  const a = step.args as unknown as FileWriteArgs;
  const [current, stat] = await Promise.all([host.read(a.path), host.lstat(a.path)]);
  const currentSha = current === null ? null : sha256(current);
  const want = sha256(a.content);
  const attrsMatch =
    stat !== null &&
    (a.mode === undefined || stat.mode === a.mode) &&
    (a.uid === undefined || stat.uid === a.uid) &&
    (a.gid === undefined || stat.gid === a.gid);
  if (currentSha === want && attrsMatch) return { status: 'already' };
  if (currentSha !== a.before && currentSha !== want) {
    throw new StepError(`${a.path} changed since it was observed; plan again`);
  }
  await host.writeFile(a.path, a.content, { mode: a.mode, uid: a.uid, gid: a.gid });
  return { status: 'done' };
};

const fileSymlink: StepRunner = async (step, { host }) => {
  const a = step.args as unknown as SymlinkArgs;
  const current = await host.readlink(a.path);
  if (current === a.target) return { status: 'already' };
  if (a.before !== undefined && current !== a.before) {
    throw new StepError(`${a.path} changed since it was observed (now ${current === null ? 'no link' : `-> ${current}`}); plan again`);
  }
  await host.symlink(a.path, a.target);
  return { status: 'done' };
};

const fileRemove: StepRunner = async (step, { host }) => {
  const a = step.args as unknown as RemoveArgs;
  const current = await host.read(a.path);
  if (current === null && !(await host.exists(a.path))) return { status: 'already' };
  if (current !== null && a.before !== null && sha256(current) !== a.before) {
    throw new StepError(`${a.path} changed since it was observed; plan again`);
  }
  await host.removeFile(a.path);
  return { status: 'done' };
};

const dirEnsure: StepRunner = async (step, { host }) => {
  const a = step.args as unknown as DirArgs;
  const stat = await host.lstat(a.path);
  if (stat && stat.type !== 'dir') throw new StepError(`${a.path} exists and is not a directory`);
  if (
    stat &&
    (a.mode === undefined || stat.mode === a.mode) &&
    (a.uid === undefined || stat.uid === a.uid) &&
    (a.gid === undefined || stat.gid === a.gid)
  ) {
    return { status: 'already' };
  }
  await host.ensureDir(a.path, { mode: a.mode, uid: a.uid, gid: a.gid });
  return { status: 'done' };
};

const dirRemoveIfEmpty: StepRunner = async (step, { host }) => {
  const a = step.args as unknown as DirArgs;
  if (!(await host.exists(a.path))) return { status: 'already' };
  const removed = await host.removeDirIfEmpty(a.path);
  return removed ? { status: 'done' } : { status: 'already', detail: `${a.path} is not empty, kept` };
};

const execStep: StepRunner = async (step, { host, timeoutMs }) => {
  const a = step.args as unknown as ExecArgs;
  const result = await host.exec(a.argv, { timeoutMs: a.timeoutMs ?? timeoutMs });
  if (!result.ok) throw new StepError(describeFailure(result), result.stderr);
  return { status: 'done', detail: result.stdout.trim().split('\n').slice(-3).join('\n') || undefined };
};

export const genericOps: Record<string, StepRunner> = {
  'file.write': fileWrite,
  'file.symlink': fileSymlink,
  'file.remove': fileRemove,
  'dir.ensure': dirEnsure,
  'dir.removeIfEmpty': dirRemoveIfEmpty,
  exec: execStep,
};
