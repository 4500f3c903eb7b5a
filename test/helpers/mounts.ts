import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { genericOps } from '../../src/apply/ops.js';
import { Host } from '../../src/host/host.js';
import { readAccounts } from '../../src/host/accounts.js';
import { orderSteps } from '../../src/plan/order.js';
import type { Change } from '../../src/plan/types.js';
import type { HostSpec } from '../../src/spec/types.js';
import { createMountsKind, type MountSpec } from '../../src/resources/mounts/index.js';
import { parseMountinfo } from '../../src/resources/mounts/mountinfo.js';
import type { MountsDiffOutput } from '../../src/resources/mounts/diff.js';
import type { StepOutcome } from '../../src/resources/types.js';

export const kind = createMountsKind({ probeDeadlineMs: 1_500 });
const ops = { ...genericOps, ...kind.ops! };

export async function plan(host: Host, mounts: MountSpec[], owned: string[] = [], secrets: Record<string, string> = {}): Promise<MountsDiffOutput> {
  const spec = { host: 'test', mounts } as HostSpec;
  const observed = await kind.observe({ host, spec, owned, accounts: () => readAccounts(host) });
  return kind.diff({ spec, observed, owned, offline: host.offline, secrets: new Map(Object.entries(secrets)) }) as MountsDiffOutput;
}

export interface Ran {
  id: string;
  outcome?: StepOutcome;
  error?: Error;
}

/** Runs the changes' steps as the applier does (its own ordering), stopping at the first failure. */
/** `secrets` as the applier passes them: resolved references by refKey (steps never read a reference themselves). */
export async function apply(host: Host, changes: Change[], secrets: Record<string, string> = {}): Promise<Ran[]> {
  const order = orderSteps(changes);
  const ran: Ran[] = [];
  for (const s of order) {
    const runner = ops[s.op];
    if (!runner) throw new Error(`no runner for ${s.op}`);
    try {
      ran.push({ id: s.id, outcome: await runner(s, { host, timeoutMs: 20_000, secrets: new Map(Object.entries(secrets)) }) });
    } catch (e) {
      ran.push({ id: s.id, error: e as Error });
      break;
    }
  }
  return ran;
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
