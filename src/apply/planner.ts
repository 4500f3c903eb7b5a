import { sha256 } from '../hash.js';
import { statSync } from 'node:fs';
import { Host } from '../host/host.js';
import { readAccounts, type Accounts } from '../host/accounts.js';
import { SpecError, SpecValueError, UserError, formatDiagnostic, type Diagnostic } from '../errors.js';
import { loadHostSpec, type FleetSources } from '../fleet/load.js';
import type { OpenFleet } from '../fleet/index.js';
import { resolveSecrets } from '../spec/secrets.js';
import { hmacHex } from '../host/digest.js';
import { diagnosticAt, type LoadedSpec } from '../spec/load.js';
import { readState, createdByKind, type State } from './state.js';
import { kindsInUse, loadKinds, observedThroughHost } from '../resources/registry.js';
import type { GitInfo } from '../plan/git.js';
import { acknowledgeDrift } from '../plan/acknowledge.js';
import { PLAN_FORMAT_VERSION, type Change, type Plan } from '../plan/types.js';
import { orderSteps } from '../plan/order.js';
import { targetPlan, targets } from '../plan/target.js';
import { VERSION } from '../version.js';
import { isOwnUnitAddress } from '../resources/units/paths.js';

export interface PlanOptions {
  root?: string;
  strict?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Observe through this Host instead of the machine (a facts snapshot replayed, or recorded). */
  host?: Host;
  /** When ignoreDrift entries are judged (tests); now by default. */
  now?: Date;
  /**
   * Create the host's digest key when it is missing (apply, and a plan saved for apply). A plain
   * plan writes nothing: without a key it digests with a key of this run only.
   */
  createDigestKey?: boolean;
  /** A fleet's inventory opened once for many of its hosts (plan --fleet); read afresh without it. */
  fleet?: OpenFleet;
  /**
   * The converged-plan memo (src/apply/memo.ts): `use` takes a kept plan when everything it read
   * answers the same, and keeps a new one (plan, drift, pull, apply's plan under its lock); `keep`
   * observes in full and keeps one (apply's proof of convergence); absent, neither.
   */
  memo?: 'use' | 'keep';
  /**
   * Whether the plan records the spec's git provenance, one `git status` process: false when
   * nothing would show it (plan's text output without --verbose or --out).
   */
  provenance?: boolean;
  /** --target: only these addresses' changes (src/plan/target.ts). */
  targets?: readonly string[];
  /**
   * Plan reconcile's own units (the fragment `pull --install-timer` applies) instead of a spec:
   * each side sees only its own owned addresses, so neither removes what the other applied.
   */
  ownUnits?: boolean;
}

export interface PlanResult {
  plan: Plan;
  spec: LoadedSpec;
  host: Host;
  /** What reconcile owns on the host: apply needs it, a plan taken from the memo does not read it. */
  state: () => Promise<State>;
  secrets: ReadonlyMap<string, string>;
}

/** The spec loaded, checked and its secrets resolved: what a plan needs before it observes. */
export interface PreparedSpec {
  spec: LoadedSpec;
  diagnostics: Diagnostic[];
  secrets: ReadonlyMap<string, string>;
  git: Promise<GitInfo | null>;
  /** Inside a fleet: the files the merged spec was made from (recorded in the plan, checked for staleness). */
  fleet?: FleetSources;
  /** A Host of the spec's root, for what comes before observing (taking the host lock). */
  host: Host;
}

/** Load and check the spec and resolve its secrets, observing nothing. */
export async function prepareSpec(file: string, options: PlanOptions = {}): Promise<PreparedSpec> {
  const root = options.host?.root ?? options.root ?? '/';
  if (!options.host) checkRoot(root);
  // git runs in its own process while the spec is checked and the host observed.
  const provenance = options.provenance !== false;
  let git = provenance ? gitInfo(file) : Promise.resolve(null);
  const { spec, diagnostics, fleet } = await loadHostSpec(file, { root, strict: options.strict, migrationFiles: false, fleet: options.fleet, ownUnits: options.ownUnits });
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new SpecError(errors);
  // A merged spec is dirty when any of its files is.
  if (fleet && provenance) git = gitInfo(file, fleet.files);
  const host = newHost(root, options);
  checkHostname(spec, host);
  const resolved = resolveSecrets(spec, options.env);
  if (resolved.diagnostics.length) throw new SpecError(resolved.diagnostics);
  return { spec, diagnostics, secrets: resolved.secrets, git, host, ...(fleet ? { fleet } : {}) };
}

/** git runs in its own process, loaded only when a plan records provenance. */
function gitInfo(file: string, sources?: string[]): Promise<GitInfo | null> {
  return import('../plan/git.js').then((g) => g.gitInfo(file, sources)).catch(() => null);
}

function newHost(root: string, options: PlanOptions): Host {
  const host = options.host ?? new Host(root);
  if (options.createDigestKey) host.createsDigestKey = true;
  return host;
}

/**
 * Load and check the spec, observe the host once per kind, diff: the plan and what it came from.
 * Given a spec prepared earlier (apply, before it waited for the host lock), the spec is not
 * loaded again, but the host is observed through a new Host: nothing cached before the wait counts.
 */
export async function planSpec(file: string, options: PlanOptions = {}, prepared?: PreparedSpec): Promise<PlanResult> {
  // The memo's module loads while the spec is read and checked.
  const memoModule = options.memo && !options.host ? import('./memo.js') : undefined;
  const p = prepared ?? (await prepareSpec(file, options));
  const { spec, diagnostics, git } = p;
  const memo = await memoModule;
  const memoCtx = memo?.memoContext(p, options);
  const kept = memoCtx && options.memo === 'use' ? await memo!.recall(memoCtx) : undefined;
  if (kept) {
    const plan = planOf(file, p, { changes: [], ...kept }, await git);
    const host = prepared ? newHost(prepared.host.root, options) : p.host;
    return { plan, spec, host, state: () => readState(host), secrets: p.secrets };
  }
  const tracing = memoCtx ? await tracingHost(p.host, options) : undefined;
  const host = tracing ?? (prepared ? newHost(prepared.host.root, options) : p.host);
  const resolved = { secrets: p.secrets };

  const state = await readState(host);
  let accounts: Promise<Accounts> | undefined;
  const sharedAccounts = () => (accounts ??= readAccounts(host));
  const created = createdByKind(state);
  const kinds = await loadKinds(kindsInUse(spec.value, created.keys()));
  const owned = kinds.map((k) => Object.keys(created.get(k.name) ?? {}).filter((a) => inScope(a, options)));
  const observed = await Promise.all(kinds.map((k, i) => k.observe({ host, spec: spec.value, owned: owned[i]!, accounts: sharedAccounts, specPath: file, secrets: resolved.secrets })));
  // Loaded only if observe kept a digest of a secret: a plan without one creates no key.
  const key = await host.loadedDigestKey();
  const keyedDigest = (data: string) => (key ? hmacHex(key, data) : null);

  const changes: Change[] = [];
  const digests: Record<string, string> = {};
  const managed: Record<string, string> = {};
  const creates: Record<string, string[]> = {};
  const warnings = diagnostics.filter((d) => d.severity === 'warning').map(formatDiagnostic);
  const locks: NonNullable<Plan['locks']> = [];
  const files: NonNullable<Plan['files']> = [];
  const wanted = options.targets ?? [];
  const targeted = wanted.length ? (address: string) => wanted.some((t) => targets(t, address)) : undefined;
  kinds.forEach((kind, i) => {
    const out = atSpecValue(spec, () => kind.diff({ spec: spec.value, observed: observed[i], owned: owned[i]!, created: created.get(kind.name) ?? {}, offline: host.offline, secrets: resolved.secrets, digest: keyedDigest, ...(targeted ? { targeted } : {}) }));
    changes.push(...out.changes);
    for (const [address, slice] of Object.entries(out.observedByAddress)) digests[address] = digest(slice);
    for (const address of out.managed) managed[address] = kind.name;
    Object.assign(creates, out.creates ?? {});
    warnings.push(...(out.warnings ?? []));
    locks.push(...(out.locks ?? []));
    files.push(...(out.files ?? []));
  });
  warnings.push(...acknowledgeDrift(changes, spec.value.ignoreDrift, options.now ?? new Date()));
  orderSteps(changes); // fails now, not at apply, when shared steps disagree or depend in a cycle

  const plan = planOf(file, p, { changes, digests, managed, ...(Object.keys(creates).length ? { creates } : {}), warnings, ...(locks.length ? { locks } : {}), ...(files.length ? { files } : {}) }, await git);
  if (memoCtx && tracing && observedThroughHost(kinds.map((k) => k.name))) memo!.remember(memoCtx, tracing, plan);
  return { plan: options.targets?.length ? targetPlan(plan, options.targets) : plan, spec, host, state: async () => state, secrets: resolved.secrets };
}

/** The plan of what a diff (or the memo) found, stamped with the spec it came from and now. */
function planOf(file: string, p: PreparedSpec, found: Pick<Plan, 'changes' | 'digests' | 'managed' | 'creates' | 'warnings' | 'locks' | 'files'>, git: GitInfo | null): Plan {
  const { changes, digests, managed, creates, warnings, locks, files } = found;
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    tool: { name: 'reconcile', version: VERSION },
    host: p.spec.value.host,
    root: p.host.root,
    createdAt: new Date().toISOString(),
    spec: { path: file, sha256: p.spec.sha256, ...(p.fleet ? { sources: p.fleet.sources, fleet: p.fleet.fleet } : {}), git },
    changes,
    digests,
    managed,
    ...(creates ? { creates } : {}),
    warnings,
    ...(locks ? { locks } : {}),
    ...(files ? { files } : {}),
  };
}

/** A Host of the same root that keeps the trace of what the plan reads, for the memo. */
async function tracingHost(like: Host, options: PlanOptions): Promise<import('../host/trace.js').TracingHost> {
  const { TracingHost } = await import('../host/trace.js');
  const host = new TracingHost(like.root);
  if (options.createDigestKey) host.createsDigestKey = true;
  return host;
}

/** Whether an owned address is this plan's to keep or remove: reconcile's own units belong to their own fragment. */
export function inScope(address: string, options: Pick<PlanOptions, 'ownUnits'>): boolean {
  return isOwnUnitAddress(address) === !!options.ownUnits;
}

/** A host fault a spec value ran into is reported at that value's FILE:LINE:COL. */
function atSpecValue<T>(spec: LoadedSpec, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof SpecValueError) throw new SpecError([diagnosticAt(spec, e.at, e.message)]);
    throw e;
  }
}

export function digest(value: unknown): string {
  return sha256(JSON.stringify(value ?? null)).slice(0, 32);
}

/** --root must name a directory that exists: a typo must not plan (or apply) a whole new tree. */
function checkRoot(root: string): void {
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new UserError(`--root ${root}: not an existing directory`);
}

function checkHostname(spec: LoadedSpec, host: Host): void {
  if (host.offline) return;
  const mine = host.hostname();
  const want = spec.value.host;
  if (want === mine || want.split('.')[0] === mine.split('.')[0]) return;
  throw new UserError(`${spec.path}: this spec is for host "${want}" but this machine is "${mine}" (give --root DIR to plan against another root)`);
}
