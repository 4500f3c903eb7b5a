import type { Host } from '../host/host.js';
import { maxRisk, type Risk } from '../plan/types.js';
import type { Accounts } from '../host/accounts.js';
import type { Change } from '../plan/types.js';
import type { FileDiff } from '../plan/filediff.js';
import type { StepRunner } from '../plan/steps.js';
import type { HostSpec, ValidateOptions } from '../spec/types.js';
import type { Diagnostic } from '../errors.js';
import type { LoadedSpec } from '../spec/load.js';

/**
 * What a kind checks in a spec alone (no host), each finding at its FILE:LINE:COL. The spec has
 * passed the schema. Loaded by the spec checker only, on a spec-cache miss.
 */
export interface KindValidate {
  validate(spec: LoadedSpec, options: ValidateOptions): Diagnostic[];
}

/**
 * The risk of a kind's changes. `entries` names the kind's resources in a spec by the planner's
 * addresses; `risk` judges a change of one entry (undefined: absent on that side). `context`
 * carries what only a live host knows; without it (review) the answer is the worse case.
 */
export interface KindRisk<Entry = any, Context = any, Observed = any> {
  entries(spec: HostSpec): [address: string, entry: Entry][];
  risk(before: Entry | undefined, after: Entry | undefined, context?: Context): Assessed;
  /**
   * The plan's side, pure: what the host has at an address as a spec entry (undefined: nothing
   * there), and the context only the live host gives. The kind's diff judges each change with
   * `risk(observedEntry(...).entry, desired, observedEntry(...).context)`; so does the test that
   * holds plan and review to one answer (test/risk-consistency.test.ts).
   */
  observedEntry(observed: Observed, address: string, desired: Entry | undefined, offline: boolean): { entry: Entry | undefined; context?: Context };
}

/**
 * A resource kind: `observe` reads the host once for every resource of the kind (impure, batched),
 * `diff` is a pure function of (spec, observed, owned) to changes made of step data, and `ops`
 * run the kind's own step types. Adding a kind touches its folder, one line in registry.ts and
 * the schema.
 */
export interface ResourceKind<Observed = unknown> {
  name: string;
  observe(ctx: ObserveContext): Promise<Observed>;
  diff(input: DiffInput<Observed>): DiffOutput;
  ops?: Record<string, StepRunner>;
}

export interface ObserveContext {
  host: Host;
  spec: HostSpec;
  /**
   * Addresses of this kind where an earlier apply created something (or was about to: a pending
   * intent): what leaving the spec may remove. Addresses reconcile only edited are not here.
   */
  owned: string[];
  /** The root's users and groups, read once per plan for every kind. */
  accounts(): Promise<Accounts>;
  /** The spec file: paths in the spec that are relative to it (migrations' `dir`) resolve from here. */
  specPath?: string;
  /** Resolved secret references, as in DiffInput: for kinds that must connect to observe (migrations). */
  secrets?: ReadonlyMap<string, string>;
}

export interface DiffInput<Observed> {
  spec: HostSpec;
  observed: Observed;
  /** As in ObserveContext: addresses where reconcile created something. */
  owned: string[];
  /** What reconcile created at each owned address (kind-defined parts), for kinds that remove part by part. */
  created?: Readonly<Record<string, readonly string[]>>;
  /** Under --root: live-only state is neither observed nor changed. */
  offline: boolean;
  /** Resolved secret references of the spec, by `refKey()` (see src/spec/secrets.ts). */
  secrets: ReadonlyMap<string, string>;
  /**
   * The keyed digest Host.fileFacts gives, of `data`; absent or null when the host's key is not
   * known (a facts snapshot, a fixture): a secret file's content is then not compared.
   */
  digest?: (data: string) => string | null;
  /**
   * Under --target: whether an address is targeted (absent: all are). A file several resources
   * edit is then made of the targeted resources' edits only, so a target writes no line of another.
   */
  targeted?: (address: string) => boolean;
}

export interface DiffOutput {
  changes: Change[];
  /** What was observed for each address the kind looked at; hashed into the plan's digests. */
  observedByAddress: Record<string, unknown>;
  /** Addresses the spec manages (recorded as owned after a successful apply). */
  managed: string[];
  /**
   * Managed addresses where the plan brings something into being that is not on the host now, and
   * what (kind-defined parts, e.g. 'fstab line'): recorded as created, so leaving the spec removes
   * it. What the plan only edits is not listed: leaving the spec leaves it as it is.
   */
  creates?: Record<string, string[]>;
  /** Findings that are not changes (a stale mount that is otherwise in sync); shown with the plan. */
  warnings?: string[];
  /** Shared resources the changes touch, beyond this host (a PostgreSQL cluster): apply takes these read-write locks. */
  locks?: ResourceLock[];
  /** One diff per file that several resources edit (fstab, exports), with each resource's own lines. */
  files?: FileDiff[];
}

export interface ResourceLock {
  name: string;
  /** write: exclusive (a standby rebuild, a primary restart); read: shared (ordinary changes). */
  mode: 'read' | 'write';
}

export { StepError, type StepContext, type StepOutcome, type StepRunner } from '../plan/steps.js';

/**
 * The risk of one change, with the reasons a reviewer reads. A kind judges its changes with ONE
 * function of (before, after) spec-shaped entries: review calls it with the entry at the base
 * and at head, the kind's diff with the observed state projected to an entry and the desired one.
 */
export interface Assessed {
  risk: Risk;
  reasons: string[];
}

export const at = (risk: Risk, ...reasons: string[]): Assessed => ({ risk, reasons });

/** The worst of several findings, every reason kept. */
export function worst(found: Assessed[]): Assessed {
  if (!found.length) return at('none');
  return { risk: maxRisk(found.map((f) => f.risk)), reasons: found.flatMap((f) => f.reasons) };
}
