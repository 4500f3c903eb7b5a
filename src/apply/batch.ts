import type { Step } from '../plan/types.js';

/** File steps that may run at once: writes, links and directories of unrelated paths, none waiting on another. */
const CONCURRENT_OPS = new Set(['file.write', 'file.symlink', 'dir.ensure']);
const MAX_CONCURRENT = 16;

/**
 * The steps from `start` that run together: one step, or a run of consecutive file writes and
 * links (already in dependency order) of which none names another in its `after`. Each write ends
 * in an fsync; issued together, the filesystem commits them in a few journal transactions
 * instead of one per file, which is most of an apply's time with hundreds of unit files.
 */
export function fileBatch(steps: Step[], start: number): Step[] {
  const first = steps[start]!;
  if (!CONCURRENT_OPS.has(first.op) || first.live) return [first];
  const batch = [first];
  const paths = [String(first.args.path)];
  for (let i = start + 1; i < steps.length && batch.length < MAX_CONCURRENT; i++) {
    const s = steps[i]!;
    const p = String(s.args.path);
    // A path inside another of the batch (a file in a directory being made) waits for it.
    if (!CONCURRENT_OPS.has(s.op) || s.live || paths.some((q) => related(p, q))) break;
    const waits = (s.after ?? []).some((dep) => batch.some((b) => (dep.endsWith('*') ? b.id.startsWith(dep.slice(0, -1)) : b.id === dep)));
    if (waits) break;
    batch.push(s);
    paths.push(p);
  }
  return batch;
}

/** The same path, or one inside the other. */
function related(a: string, b: string): boolean {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  return long === short || long.startsWith(short.endsWith('/') ? short : `${short}/`);
}
