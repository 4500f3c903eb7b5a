/**
 * The Plan is versioned data. Renderers, plan files and `apply` read only this shape.
 * Bump PLAN_FORMAT_VERSION on any incompatible change of the JSON form (src/plan/public.ts).
 * 2: steps stored once, in run order, and referenced by id from the changes.
 * (2 also carries `files`, optional: a reader of 2 that ignores it still reads every change.)
 */
import type { FileDiff } from './filediff.js';

export const PLAN_FORMAT_VERSION = 2;

/** A closed set, like Terraform's plans.Action. */
export const ACTIONS = ['create', 'update', 'delete', 'replace', 'run'] as const;
export type Action = (typeof ACTIONS)[number];

/** Ordered from harmless to dangerous; `destructive` needs --allow-destructive. */
export const RISKS = ['none', 'reload', 'restart', 'disruptive', 'destructive'] as const;
export type Risk = (typeof RISKS)[number];

export function maxRisk(risks: Iterable<Risk>): Risk {
  let worst = 0;
  for (const r of risks) worst = Math.max(worst, RISKS.indexOf(r));
  return RISKS[worst]!;
}

/**
 * One idempotent action. `op` names a runner (generic ones built in src/plan/steps.ts, run by src/apply/ops.ts; kind-specific
 * ones in src/resources/<kind>/steps.ts). Steps with the same `id` are the same action and are
 * run once (that is how one daemon-reload or one `exportfs -ra` serves many changes).
 */
export interface Step {
  id: string;
  op: string;
  /** What a human reads in the plan and the progress line. */
  title: string;
  /**
   * Ids of steps that must run first (when they are in the plan); `file:*` stands for every step
   * whose id starts with `file:`, so a shared step (one daemon-reload) can name all writes.
   */
  after?: string[];
  /** Only meaningful on a live host (systemd manager, exportfs, timedatectl): skipped under --root. */
  live?: boolean;
  args: Record<string, unknown>;
}

export interface Change {
  /** Stable resource address, e.g. `timezone`, `exports[/data/share]`. */
  address: string;
  kind: string;
  action: Action;
  risk: Risk;
  summary: string;
  /** Unified diffs of every file the change writes, secrets redacted; '' when none. */
  diff: string;
  steps: Step[];
  /** Extra facts for the reader (display only). */
  notes?: string[];
  /**
   * Set when the spec's ignoreDrift acknowledges this change until a date: drift checks do not
   * count it, but it is still a pending change that apply makes (display only otherwise).
   */
  acknowledged?: { until: string; reason: string };
}

export interface SpecRef {
  path: string;
  /** sha256 of the spec's text; of the canonical merged spec (mergedSpecDigest) inside a fleet. */
  sha256: string;
  /** Inside a fleet: every file the merged spec was made from (repository-relative), the host file last. */
  sources?: SpecSource[];
  /** Inside a fleet: sha256 over fleet.yaml and the inventory files. */
  fleet?: string;
  /** `dirty` covers every source and the inventory files; `git.sources` names those not in the commit. */
  git: GitInfo | null;
}

export interface SpecSource {
  path: string;
  sha256: string;
}

/**
 * What git says of one file: `clean` is in the commit as it is; `modified` (or `deleted`) differs
 * from it; `added` is staged but in no commit; `untracked` and `ignored` are not in git at all, so
 * the commit says nothing about their bytes.
 */
export type GitFileState = 'clean' | 'modified' | 'deleted' | 'added' | 'untracked' | 'ignored';

export interface GitInfo {
  /** HEAD: the commit the working tree is at (which holds the spec only when `state` is clean). */
  commit: string;
  /** Anything in the spec's directory (the spec, migrations beside it) or any source differs from the commit, or is not in it. */
  dirty: boolean;
  /** The spec file's own state. */
  state: GitFileState;
  /** Every other source file given (a fleet host's fragments, fleet.yaml), repository-relative, that is not clean. */
  sources?: { path: string; state: GitFileState }[];
}

/** `abc123def456`, with what is not in it: `(dirty)`, `(spec untracked)`. For renderers. */
export function describeGit(git: GitInfo): string {
  const commit = git.commit.slice(0, 12);
  if (git.state && git.state !== 'clean' && git.state !== 'modified') return `${commit} (spec ${git.state}: not in the commit)`;
  return git.dirty ? `${commit} (dirty)` : commit;
}


export interface Plan {
  formatVersion: number;
  tool: { name: 'reconcile'; version: string };
  host: string;
  root: string;
  createdAt: string;
  spec: SpecRef;
  changes: Change[];
  /** sha256 of what was observed, per resource address: what `apply PLANFILE` re-checks. */
  digests: Record<string, string>;
  /** Addresses the spec manages: recorded as owned after a successful apply. */
  managed: Record<string, string>;
  /** Managed addresses where applying creates something not on the host now, and what (see DiffOutput.creates). */
  creates?: Record<string, string[]>;
  warnings: string[];
  /** Read-write locks on shared resources (by name) that apply takes with lock.redis. */
  locks?: { name: string; mode: 'read' | 'write' }[];
  /**
   * One unified diff per file that several resources edit (fstab, exports), against the file as it
   * is, with the lines each change owns; a change's own `diff` holds the files only it writes.
   */
  files?: FileDiff[];
  /** The --target addresses the plan was limited to (src/plan/target.ts); absent: the whole spec. */
  targets?: string[];
}

export type StepStatus = 'done' | 'already' | 'skipped' | 'failed' | 'not run';

/** What one step of an apply did (results per step, not an exception halfway). */
export interface StepResult {
  id: string;
  title: string;
  /** The changes this step serves. */
  addresses: string[];
  status: StepStatus;
  detail?: string;
  error?: string;
  durationMs: number;
}

export interface ApplyReport {
  plan: Plan;
  results: StepResult[];
  /** Changes the re-observation after apply still finds; empty when the host converged. */
  remaining: Change[];
  ok: boolean;
  /** Why apply stopped early (a failed step, a lost lock, a signal). */
  stoppedBecause?: string;
  journal?: string;
  lockToken?: number;
  /** No rollout slot came within rollout.wait (exit 2): the group, our place in its queue, why. */
  deferred?: { group: string; position: number; why: string };
}
