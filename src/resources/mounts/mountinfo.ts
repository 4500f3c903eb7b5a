import type { LiveMount } from './types.js';
import { parseMountInfo } from '../../host/mounts.js';

/** /proc/self/mountinfo (proc(5)) in the kind's shape; mount points are the machine's real paths. */
export function parseMountinfo(text: string): LiveMount[] {
  return parseMountInfo(text).map((m) => ({
    id: m.id,
    parent: m.parentId,
    majmin: m.device,
    root: m.root,
    path: m.mountPoint,
    realPath: m.mountPoint,
    mountOptions: m.options.split(','),
    fsType: m.fstype,
    source: m.source,
    superOptions: m.superOptions.split(',').filter(Boolean),
  }));
}

/** A real path as the host (rooted at `root`) names it; null when outside the root. */
export function toHostPath(realPath: string, root: string): string | null {
  if (root === '/') return realPath;
  if (realPath === root) return '/';
  return realPath.startsWith(root + '/') ? realPath.slice(root.length) : null;
}

/**
 * Live mounts as the host sees them: under --root only those below the root, mapped back to
 * host paths. Later lines are mounted on top, so the last one per path wins.
 */
export function hostMounts(all: LiveMount[], root: string): Map<string, LiveMount> {
  const top = new Map<string, LiveMount>();
  for (const m of all) {
    const p = toHostPath(m.realPath, root);
    if (p === null) continue;
    // File sources (fuse, bind-like helpers) name real paths: show them as the host names them.
    const src = m.source.startsWith('/') && !m.source.startsWith('/dev/') ? (toHostPath(m.source, root) ?? m.source) : m.source;
    top.set(p, { ...m, path: p, source: src });
  }
  return top;
}

/** The mount holding a real path (longest mount point prefix) and the path inside its filesystem. */
export function locate(all: LiveMount[], realPath: string): { mount: LiveMount; inner: string } | null {
  let best: LiveMount | null = null;
  for (const m of all) {
    const mp = m.realPath;
    const inside = mp === '/' || realPath === mp || realPath.startsWith(mp + '/');
    if (inside && (!best || mp.length >= best.realPath.length)) best = m;
  }
  if (!best) return null;
  const rest = best.realPath === '/' ? realPath : realPath.slice(best.realPath.length);
  const inner = (best.root === '/' ? '' : best.root) + rest;
  return { mount: best, inner: inner || '/' };
}
