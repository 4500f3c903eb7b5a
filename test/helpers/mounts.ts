import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applySpec } from '../../src/apply/apply.js';
import { planSpec } from '../../src/apply/planner.js';
import type { Plan } from '../../src/plan/types.js';
import type { MountSpec } from '../../src/resources/mounts/index.js';
import { parseMountinfo } from '../../src/resources/mounts/mountinfo.js';

export interface Ran {
  id: string;
  error?: Error;
}

/**
 * A temp --root with a spec file beside it, planned and applied through the real planner and
 * applier (lock, journal, step order, runners, ownership in the state file, the re-observation
 * that proves convergence): what the tests assert is what `reconcile apply` does.
 */
export class MountBed {
  readonly dir = mkdtempSync(join(tmpdir(), 'reconcile-mounts-'));
  readonly root = join(this.dir, 'root');
  readonly specFile = join(this.dir, 'host.yaml');

  constructor() {
    mkdirSync(join(this.root, 'etc'), { recursive: true });
  }

  real(hostPath: string): string {
    return join(this.root, hostPath);
  }

  /** Writes the spec (JSON is YAML) with these mounts; none: the spec has no `mounts` key. */
  write(mounts: MountSpec[]): void {
    writeFileSync(this.specFile, JSON.stringify({ host: 'test', ...(mounts.length ? { mounts } : {}) }, null, 2) + '\n');
  }

  async plan(mounts: MountSpec[]): Promise<Plan> {
    this.write(mounts);
    return (await planSpec(this.specFile, { root: this.root })).plan;
  }

  /**
   * Applies a plan made by plan() (refused if the host or spec changed since, as `apply PLANFILE`
   * is), or plans and applies these mounts. The step results in order; an apply that stopped
   * without a failed step (the host still differs afterwards) ends with an entry `apply` holding why.
   */
  async apply(what: Plan | MountSpec[]): Promise<Ran[]> {
    if (Array.isArray(what)) this.write(what);
    const report = await applySpec(this.specFile, { root: this.root, savedPlan: Array.isArray(what) ? undefined : what });
    const ran: Ran[] = report.results.map((r) => ({ id: r.id, ...(r.error !== undefined ? { error: new Error(r.error) } : {}) }));
    if (!report.ok && !ran.some((r) => r.error)) ran.push({ id: 'apply', error: new Error(report.stoppedBecause ?? 'apply not ok') });
    return ran;
  }

  cleanup(): void {
    umountAll(this.dir);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Every mount below a real directory, deepest first. */
export function mountsUnder(dir: string): { id: number; path: string }[] {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'))
    .filter((m) => m.realPath === dir || m.realPath.startsWith(dir + '/'))
    .map((m) => ({ id: m.id, path: m.realPath }))
    .reverse();
}

/** Unmounts everything below dir; lazily when a plain unmount fails, so cleanup never blocks. */
export function umountAll(dir: string): void {
  for (let i = 0; i < 20; i++) {
    const ms = mountsUnder(dir);
    if (ms.length === 0) return;
    for (const m of ms) {
      try {
        execFileSync('umount', [m.path], { stdio: 'ignore', timeout: 5_000 });
      } catch {
        try {
          execFileSync('umount', ['-l', m.path], { stdio: 'ignore', timeout: 5_000 });
        } catch {
          /* next round */
        }
      }
    }
  }
}

export interface Findmnt {
  target: string;
  source: string;
  fstype: string;
  options: string;
}

export function findmnt(realPath: string): Findmnt | null {
  try {
    const out = execFileSync('findmnt', ['-J', '--mountpoint', realPath], { encoding: 'utf8' });
    return (JSON.parse(out) as { filesystems: Findmnt[] }).filesystems.at(-1) ?? null;
  } catch {
    return null;
  }
}

export function mountId(realPath: string): number | undefined {
  return mountsUnder(realPath).find((m) => m.path === realPath)?.id;
}
