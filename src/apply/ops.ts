import { describeFailure } from '../diagnostics/hang.js';
import { sha256 } from '../hash.js';
import { updateOwed } from '../host/owed.js';
import { StepError, typedRunners, type GenericStepArgs } from '../plan/steps.js';

/**
 * The runners of the generic steps (src/plan/steps.ts). Every runner re-checks the host right
 * before it acts: it does nothing when the host already matches, and refuses when the file is no
 * longer what the plan was computed from (someone edited it in between).
 */
export const genericOps = typedRunners<GenericStepArgs>({
  'file.write': async (a, { host }) => {
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
    const warning = await host.writeFile(a.path, a.content, { mode: a.mode, uid: a.uid, gid: a.gid });
    return { status: 'done', detail: warning };
  },

  'file.symlink': async (a, { host }) => {
    const current = await host.readlink(a.path);
    if (current === a.target) return { status: 'already' };
    if (a.before !== undefined && current !== a.before) {
      throw new StepError(`${a.path} changed since it was observed (now ${current === null ? 'no link' : `-> ${current}`}); plan again`);
    }
    await host.symlink(a.path, a.target);
    return { status: 'done' };
  },

  'file.remove': async (a, { host }) => {
    const current = await host.read(a.path);
    if (current === null && !(await host.exists(a.path))) return { status: 'already' };
    if (current !== null && a.before !== null && sha256(current) !== a.before) {
      throw new StepError(`${a.path} changed since it was observed; plan again`);
    }
    await host.removeFile(a.path);
    return { status: 'done' };
  },

  'dir.ensure': async (a, { host }) => {
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
  },

  'dir.removeIfEmpty': async (a, { host }) => {
    if (!(await host.exists(a.path))) return { status: 'already' };
    const removed = await host.removeDirIfEmpty(a.path);
    return removed ? { status: 'done' } : { status: 'already', detail: `${a.path} is not empty, kept` };
  },

  exec: async (a, { host, timeoutMs }) => {
    const result = await host.exec(a.argv, { timeoutMs: a.timeoutMs ?? timeoutMs });
    if (!result.ok) throw new StepError(describeFailure(result), result.stderr);
    return { status: 'done', detail: result.stdout.trim().split('\n').slice(-3).join('\n') || undefined };
  },

  'restart.owe': async (a, { host }) => ({ status: (await updateOwed(host, { [a.unit]: a.verb })) ? 'done' : 'already' }),
  'restart.settle': async (a, { host }) => ({ status: (await updateOwed(host, { [a.unit]: null })) ? 'done' : 'already' }),
});
