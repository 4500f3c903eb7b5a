import type { LiveMount } from './types.js';
import { decodeField } from './fstab.js';

/** Parses /proc/self/mountinfo (proc(5)); mount points are left as the machine's real paths. */
export function parseMountinfo(text: string): LiveMount[] {
  const out: LiveMount[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0 || f.length < sep + 3) continue;
    const realPath = decodeField(f[4]!);
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      majmin: f[2]!,
      root: decodeField(f[3]!),
      path: realPath,
      realPath,
      mountOptions: f[5]!.split(','),
      fsType: decodeField(f[sep + 1]!),
      source: decodeField(f[sep + 2]!),
      superOptions: (f[sep + 3] ?? '').split(',').filter(Boolean),
    });
  }
  return out;
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
