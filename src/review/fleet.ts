/**
 * `reconcile review --base REF` inside a fleet (DESIGN §8.3): the fleet at REF and in the working
 * tree, every host merged at both, the checks between hosts at both. Pure over the two analyses
 * except for the git reads; the renderers read only the FleetReview it returns.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Diagnostic } from '../errors.js';
import { analyseFleet, type FleetAnalysis } from '../fleet/index.js';
import { displayPath, findFleetRoot, realPath } from '../fleet/files.js';
import { compareAddresses, type Fleet } from '../fleet/inventory.js';
import { hbaRuleId } from '../fleet/addresses.js';
import type { MergedSpec } from '../fleet/merge.js';
import type { Use } from '../fleet/checks/index.js';
import { contextOf, slotLimit } from '../fleet/context.js';
import { selectHosts } from '../fleet/select.js';
import { migrationsDir, readMigrationDir } from '../resources/migrations/files.js';
import { compareVersions } from '../resources/migrations/parse.js';
import type { MigrationFile } from '../resources/migrations/types.js';
import type { HostSpec, MigrationsSpec } from '../spec/types.js';
import { maxRisk, RISKS, type Risk } from '../plan/types.js';
import { reviewSpecs, type ReviewedChange } from './risk.js';
import { changedFiles, checkoutTree, repositoryTop, resolveBase, type FileStatus } from './git.js';
import { REVIEW_FORMAT_VERSION } from './review.js';

/** The five paths by which a change reaches a host (DESIGN §8.3). */
export type AffectPath = 'file' | 'inventory' | 'reference' | 'findings' | 'migrations';

export interface AffectedHost {
  host: string;
  groups: string[];
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  reasons: { path: AffectPath; detail: string }[];
  changes: ReviewedChange[];
  risk: Risk;
}

export interface ReviewFinding extends Diagnostic {
  /** The hosts the finding is about: where it was found, and the other host whose file it names. */
  hosts: string[];
}

export interface UnsafeTransition {
  server: string;
  what: Use['what'];
  address: string;
  by: string;
  through: string;
  /** The user still has `through` at head: it breaks whatever the order. */
  stillUsed: boolean;
  message: string;
}

export interface MigrationFileReview {
  hosts: string[];
  entry: string;
  file: string;
  version: string;
  status: FileStatus;
  /** It existed at the base: a database may have applied it. */
  released: boolean;
  risk: Risk;
  reasons: string[];
}

export interface RolloutWaves {
  group: string;
  maxParallel: number;
  hosts: number;
  waves: number;
}

export interface FleetReview {
  formatVersion: number;
  kind: 'fleet';
  base: { ref: string; commit: string };
  fleet: { root: string; name: string };
  /** Hosts in the fleet at head (and at base). */
  hosts: { head: number; base: number };
  /** The groups at head and their sizes, for the summary's "N hosts of group G". */
  groups: { name: string; size: number }[];
  files: { path: string; status: FileStatus }[];
  affected: AffectedHost[];
  findings: { new: ReviewFinding[]; resolved: ReviewFinding[]; old: number };
  unsafe: UnsafeTransition[];
  migrations: MigrationFileReview[];
  /** Per rollout group, the hosts whose changes take a slot (risk ≥ its gate) and the waves that makes. */
  rollout: RolloutWaves[];
  risk: Risk;
  /** Restart or worse, or an unsafe transition: exit 2. */
  risky: boolean;
  /** A new error finding at head (an invalid spec included): exit 1. */
  blocked: boolean;
}

export interface FleetReviewOptions {
  cwd?: string;
  /** Report only these hosts; every host is still merged and checked. */
  hosts?: Set<string>;
  /** `--limit` terms (src/fleet/select.ts), read against the fleet at head; narrows `hosts`. */
  limit?: string[];
  strict?: boolean;
}

/** The fleet around `cwd`, when there is one: review then covers the whole fleet. */
export function fleetAround(cwd: string): string | undefined {
  return findFleetRoot(cwd).fleetRoot;
}

export async function reviewFleet(ref: string, fleetRoot: string, options: FleetReviewOptions = {}): Promise<FleetReview> {
  const top = await repositoryTop(fleetRoot);
  const commit = await resolveBase(top, ref);
  const files = await changedFiles(top, commit);
  const base = await checkoutTree(top, commit);
  try {
    const rel = path.relative(top, realPath(fleetRoot));
    const baseRoot = path.join(base.dir, rel);
    const head = analyseFleet(fleetRoot, { strict: options.strict });
    const before = existsSync(path.join(baseRoot, 'fleet.yaml')) ? analyseFleet(baseRoot, { strict: options.strict }) : undefined;
    let only = options.hosts;
    if (options.limit?.length) {
      const picked = selectHosts(head.fleet, options.limit);
      only = new Set([...picked].filter((h) => !only || only.has(h)));
    }
    return compare({ ref, commit, top, baseTop: base.dir, files, head, before, only });
  } finally {
    base.remove();
  }
}

interface Inputs {
  ref: string;
  commit: string;
  top: string;
  baseTop: string;
  files: Map<string, FileStatus>;
  head: FleetAnalysis;
  before?: FleetAnalysis;
  only?: Set<string>;
}

async function compare(i: Inputs): Promise<FleetReview> {
  const { head, before } = i;
  // A path of the base checkout, as the same file of the working tree (repository-relative key).
  const relHead = (abs: string) => path.relative(i.top, realPath(abs));
  const relBase = (abs: string) => path.relative(i.baseTop, realPath(abs));
  const shown = (rel: string) => displayPath(path.join(i.top, rel));
  const baseText = mapBaseText(i.baseTop, i.top);

  const names = new Set([...head.fleet.hosts.keys(), ...(before?.fleet.hosts.keys() ?? [])]);
  const reasons = new Map<string, AffectedHost['reasons']>();
  const because = (host: string, p: AffectPath, detail: string) => {
    const list = reasons.get(host) ?? [];
    if (!list.some((r) => r.path === p && r.detail === detail)) list.push({ path: p, detail });
    reasons.set(host, list);
  };

  // 1. Hosts including a changed file, at any depth, at base or at head.
  for (const host of names) {
    const srcs = new Set<string>();
    for (const s of head.all.get(host)?.sources ?? []) srcs.add(relHead(s.file.abs));
    for (const s of before?.all.get(host)?.sources ?? []) srcs.add(relBase(s.file.abs));
    const own = [head.fleet.hosts.get(host) && relHead(head.fleet.hosts.get(host)!.spec), before?.fleet.hosts.get(host) && relBase(before.fleet.hosts.get(host)!.spec)];
    for (const o of own) if (o) srcs.add(o);
    for (const s of srcs) {
      const st = i.files.get(s);
      if (st) because(host, 'file', own.includes(s) ? `its spec ${shown(s)} ${st === 'changed' ? 'changed' : `was ${st}`}` : `includes ${shown(s)} (${st})`);
    }
  }

  // 2. Hosts whose inventory entry or one of whose groups changed.
  const fleetWide = before ? ['defaults', 'redis', 'name'].filter((k) => !isDeepStrictEqual(head.fleet.file.value[k], before.fleet.file.value[k])) : [];
  for (const host of names) {
    const h = head.fleet.hosts.get(host);
    const b = before?.fleet.hosts.get(host);
    if (h && !b) because(host, 'inventory', before ? 'added to the fleet' : 'the fleet is new');
    else if (!h && b) because(host, 'inventory', 'removed from the fleet');
    else if (h && b) {
      const entry = (x: typeof h, rel: (a: string) => string) => ({ addresses: x.addresses, names: x.names, seenAs: x.seenAs, groups: x.groups, after: x.after, spec: rel(x.spec) });
      const eh = entry(h, relHead);
      const eb = entry(b, relBase);
      const fields = Object.keys(eh).filter((k) => !isDeepStrictEqual(eh[k as keyof typeof eh], eb[k as keyof typeof eb]));
      if (fields.length) because(host, 'inventory', `its entry changed: ${fields.join(', ')}`);
      for (const g of new Set([...h.groups, ...b.groups])) {
        const gh = head.fleet.groups.get(g);
        const gb = before!.fleet.groups.get(g);
        if (gh && gb && !isDeepStrictEqual({ include: gh.include.map((x) => x.path), rollout: gh.rollout }, { include: gb.include.map((x) => x.path), rollout: gb.rollout })) because(host, 'inventory', `group ${g} changed`);
      }
    }
    for (const k of fleetWide) because(host, 'inventory', `the fleet's ${k} changed`);
  }

  // 3. Hosts whose typed references expand differently ({fleet: group:G} gaining or losing a host, an address moving).
  if (before) {
    const expansions = new Map<string, string | undefined>();
    const changedRef = (ref: string) => {
      if (!expansions.has(ref)) {
        const a = expand(head.fleet, ref);
        const b = expand(before.fleet, ref);
        expansions.set(ref, isDeepStrictEqual(a, b) ? undefined : describeExpansion(b, a));
      }
      return expansions.get(ref);
    };
    const refCache = new WeakMap<object, Set<string>>();
    for (const host of names) {
      const refs = new Set<string>();
      for (const m of [head.all.get(host), before.all.get(host)]) for (const s of m?.sources ?? []) for (const r of refsOf(s.spec, refCache)) refs.add(r);
      for (const r of [...refs].sort()) {
        const d = changedRef(r);
        if (d) because(host, 'reference', `{fleet: ${r}} ${d}`);
      }
    }
  }

  // Findings at both commits: new ones block (errors), old ones are counted.
  const specHost = new Map<string, string>();
  for (const h of head.fleet.hosts.values()) specHost.set(displayPath(h.spec), h.name);
  for (const h of before?.fleet.hosts.values() ?? []) specHost.set(shown(relBase(h.spec)), h.name);
  const attach = (d: Diagnostic): ReviewFinding => ({ ...d, hosts: hostsOfFinding(d, specHost) });
  const headFindings = head.diagnostics.map(attach);
  const baseFile = (f: string) => (path.isAbsolute(f) && f.startsWith(`${i.baseTop}/`) ? shown(path.relative(i.baseTop, f)) : f);
  const baseFindings = (before?.diagnostics ?? []).map((d) => attach({ ...d, file: baseFile(d.file), message: baseText(d.message) }));
  const baseKeys = new Map<string, number>();
  for (const f of baseFindings) baseKeys.set(findingKey(f), (baseKeys.get(findingKey(f)) ?? 0) + 1);
  const fresh: ReviewFinding[] = [];
  let old = 0;
  for (const f of headFindings) {
    const k = findingKey(f);
    const n = baseKeys.get(k) ?? 0;
    if (n > 0) {
      baseKeys.set(k, n - 1);
      old++;
    } else fresh.push(f);
  }
  const headKeys = new Map<string, number>();
  for (const f of headFindings) headKeys.set(findingKey(f), (headKeys.get(findingKey(f)) ?? 0) + 1);
  const resolved = baseFindings.filter((f) => {
    const k = findingKey(f);
    const n = headKeys.get(k) ?? 0;
    if (n > 0) headKeys.set(k, n - 1);
    return n === 0;
  });

  // 5. Migration files under a host's migrations directories, reviewed by version.
  const migrations = await reviewMigrationFiles(i, relHead, relBase);
  for (const m of migrations.files) for (const h of m.hosts) because(h, 'migrations', `${m.file} (${m.status}${m.released && m.status !== 'added' ? ', already released' : ''})`);
  fresh.push(...migrations.findings);

  // 4. Hosts whose findings changed.
  for (const f of fresh) for (const h of f.hosts) because(h, 'findings', `new ${f.severity}: ${oneLine(f.message)}`);
  for (const f of resolved) for (const h of f.hosts) because(h, 'findings', `resolved ${f.severity}: ${oneLine(f.message)}`);

  // Unsafe transitions: an entry another host used at base is gone at head.
  const unsafe = unsafeTransitions(before?.uses ?? [], head);

  // The changes of each host, by the risk functions the single-host review uses.
  const affected: AffectedHost[] = [];
  for (const host of [...names].sort()) {
    const h = head.all.get(host);
    const b = before?.all.get(host);
    const valid = (m: MergedSpec | undefined) => (m && !m.diagnostics.some((d) => d.severity === 'error') ? m.value : undefined);
    const hv: HostSpec | undefined = head.fleet.hosts.has(host) ? valid(h) : undefined;
    const bv: HostSpec | undefined = before?.fleet.hosts.has(host) ? valid(b) : undefined;
    const changes = isDeepStrictEqual(hv, bv) ? [] : await reviewSpecs(bv, hv);
    if (changes.length && !reasons.has(host)) because(host, 'file', 'its merged spec changed');
    if (!reasons.has(host)) continue;
    if (i.only && !i.only.has(host)) continue;
    const status = !head.fleet.hosts.has(host) ? 'removed' : !before?.fleet.hosts.has(host) ? 'added' : changes.length ? 'changed' : 'unchanged';
    const groups = (head.fleet.hosts.get(host) ?? before?.fleet.hosts.get(host))!.groups;
    affected.push({ host, groups, status, reasons: reasons.get(host)!, changes, risk: maxRisk(changes.map((c) => c.risk)) });
  }

  const keep = <T extends { hosts: string[] }>(xs: T[]) => (i.only ? xs.filter((x) => !x.hosts.length || x.hosts.some((h) => i.only!.has(h))) : xs);
  const newFindings = keep(fresh);
  const shownUnsafe = i.only ? unsafe.filter((u) => i.only!.has(u.by) || i.only!.has(u.server)) : unsafe;
  const risk = maxRisk([...affected.map((a) => a.risk), ...migrations.files.map((m) => m.risk), ...(shownUnsafe.length ? (['disruptive'] as Risk[]) : [])]);
  return {
    formatVersion: REVIEW_FORMAT_VERSION,
    kind: 'fleet',
    base: { ref: i.ref, commit: i.commit },
    fleet: { root: displayPath(head.fleet.root) || '.', name: head.fleet.name ?? path.basename(head.fleet.root) },
    hosts: { head: head.fleet.hosts.size, base: before?.fleet.hosts.size ?? 0 },
    groups: groupSizes(head.fleet),
    files: [...i.files].map(([p, status]) => ({ path: shown(p), status })).sort((a, b) => a.path.localeCompare(b.path)),
    affected,
    findings: { new: newFindings, resolved: keep(resolved), old },
    unsafe: shownUnsafe,
    migrations: keep(migrations.files),
    rollout: waves(head.fleet, affected),
    risk,
    risky: RISKS.indexOf(risk) >= RISKS.indexOf('restart'),
    blocked: newFindings.some((f) => f.severity === 'error'),
  };
}

/** Text of the base analysis (files, messages) as the working tree's paths: `TMP/tree/x` -> `x` as displayed. */
function mapBaseText(baseTop: string, top: string): (s: string) => string {
  const escaped = baseTop.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`${escaped}/([^\\s:;,()"']*)`, 'g');
  return (s) => s.replace(re, (_, rel: string) => displayPath(path.join(top, rel)));
}

/** A finding's identity across commits: its file and words, not its line (unrelated edits move lines). */
function findingKey(d: Diagnostic): string {
  const strip = (s: string) => s.replace(/(\.ya?ml|\.sql):\d+(:\d+)?/g, '$1');
  return `${d.severity}\u0000${d.file}\u0000${strip(d.message)}`;
}

function hostsOfFinding(d: Diagnostic, specHost: Map<string, string>): string[] {
  const out = new Set<string>();
  const inc = /\(included by hosts? ([^)]+)\)$/.exec(d.message);
  if (inc) for (const h of inc[1]!.split(/, | and /)) out.add(h.trim());
  const own = specHost.get(d.file);
  if (own) out.add(own);
  for (const m of d.message.matchAll(/([^\s(;,]+\.ya?ml)/g)) {
    const h = specHost.get(m[1]!);
    if (h) out.add(h);
  }
  return [...out].sort();
}

const oneLine = (s: string) => (s.length > 160 ? `${s.slice(0, 157)}...` : s);

/** The typed references (`{fleet: X}`) a file says, anywhere in it. */
function refsOf(spec: unknown, cache: WeakMap<object, Set<string>>): Set<string> {
  if (!spec || typeof spec !== 'object') return new Set();
  const hit = cache.get(spec);
  if (hit) return hit;
  const out = new Set<string>();
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.fleet === 'string') out.add(o.fleet);
      else Object.values(o).forEach(walk);
    }
  };
  walk(spec);
  cache.set(spec, out);
  return out;
}

/** What a reference stands for in a fleet: the canonical addresses (DESIGN §8.2 rule 6). */
function expand(fleet: Fleet, ref: string): string[] {
  if (ref.startsWith('group:')) {
    const g = ref.slice('group:'.length);
    return [...fleet.hosts.values()].filter((h) => h.groups.includes(g) && h.canonical).map((h) => h.canonical!).sort(compareAddresses);
  }
  const h = fleet.hosts.get(ref);
  return h?.canonical ? [h.canonical] : [];
}

function describeExpansion(before: string[], after: string[]): string {
  const added = after.filter((a) => !before.includes(a));
  const removed = before.filter((a) => !after.includes(a));
  const list = (xs: string[]) => (xs.length > 5 ? `${xs.slice(0, 5).join(', ')} and ${xs.length - 5} more` : xs.join(', '));
  return `expands differently: ${[added.length ? `+${list(added)}` : '', removed.length ? `-${list(removed)}` : ''].filter(Boolean).join(' ')}`;
}

/** The addresses a host's merged spec provides to others: exports and their clients, hba rules, users, slots. */
function provided(m: MergedSpec): Set<string> {
  const out = new Set<string>();
  for (const e of m.value.exports ?? []) {
    if (e.state === 'absent') continue;
    out.add(`exports[${e.path}]`);
    for (const c of e.clients ?? []) out.add(`exports[${e.path}].clients[${c.host}]`);
  }
  const pg = m.value.postgres;
  for (const r of pg?.hba ?? []) out.add(`postgres.hba[${hbaRuleId(r)}]`);
  for (const u of pg?.users ?? []) out.add(`postgres.users[${u.name}]`);
  for (const s of pg?.slots ?? []) out.add(`postgres.slots[${s}]`);
  return out;
}

/** Whether the user still has what needed the entry: the mount, or its standby's primary. */
function stillHas(m: MergedSpec | undefined, through: string, server: string, fleet: Fleet): boolean {
  if (!m) return false;
  const mount = /^mounts\[(.*)\]$/.exec(through);
  if (mount) return (m.value.mounts ?? []).some((x) => x.path === mount[1] && x.state !== 'absent' && x.state !== 'unmounted');
  const pg = m.value.postgres;
  if (pg?.role !== 'standby' || !pg.primary) return false;
  const h = fleet.hosts.get(server);
  return !!h && [h.name, ...h.names, ...h.addresses.map((a) => a.replace(/\/\d+$/, ''))].includes(pg.primary.host);
}

function unsafeTransitions(uses: Use[], head: FleetAnalysis): UnsafeTransition[] {
  const out: UnsafeTransition[] = [];
  const seen = new Set<string>();
  const providedBy = new Map<string, Set<string>>();
  for (const u of uses) {
    const key = `${u.server}\u0000${u.address}\u0000${u.by}\u0000${u.through}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // A server whose spec broke at head reports its own errors; judged only when it merged.
    if (head.fleet.hosts.has(u.server) && !head.merged.has(u.server)) continue;
    const sm = head.merged.get(u.server);
    let set = sm ? providedBy.get(u.server) : new Set<string>();
    if (!set) providedBy.set(u.server, (set = provided(sm!)));
    if (set.has(u.address)) continue;
    const still = stillHas(head.merged.get(u.by), u.through, u.server, head.fleet);
    const gone = head.fleet.hosts.has(u.server) ? `${u.server} removes ${u.what} ${u.address}` : `${u.server} leaves the fleet, and with it ${u.what} ${u.address}`;
    const message = still
      ? `${gone}, which ${u.by} uses (${u.through}) at base and still at head: it breaks on ${u.by}`
      : `${gone}, which ${u.by} uses (${u.through}) at base; ${u.by} stops using it in this change too: apply ${u.by} before ${u.server} (or split the change into two commits)`;
    out.push({ server: u.server, what: u.what, address: u.address, by: u.by, through: u.through, stillUsed: still, message });
  }
  return out.sort((a, b) => a.server.localeCompare(b.server) || a.address.localeCompare(b.address) || a.by.localeCompare(b.by));
}

/**
 * Changed `.sql` files under the migrations directories of the hosts' entries (at base or head):
 * a new one runs at the next apply (the kind's own risk of moving the target to it); a changed or
 * removed one that existed at the base may be applied somewhere: a changed up section is a new
 * error (its checksum no longer matches what ran), a change elsewhere in it a warning.
 */
async function reviewMigrationFiles(i: Inputs, relHead: (a: string) => string, relBase: (a: string) => string): Promise<{ files: MigrationFileReview[]; findings: ReviewFinding[] }> {
  const sqlChanged = [...i.files].filter(([p]) => p.endsWith('.sql'));
  if (!sqlChanged.length) return { files: [], findings: [] };
  // Each migrations directory once: the hosts and entries that use it, and a spec path to read it from.
  const dirs = new Map<string, { hosts: Set<string>; entry: MigrationsSpec; headSpec?: string; baseSpec?: string; baseEntry?: MigrationsSpec }>();
  const visit = (a: FleetAnalysis | undefined, rel: (x: string) => string, side: 'head' | 'base') => {
    for (const [host, m] of a?.merged ?? []) {
      for (const entry of m.value.migrations ?? []) {
        const spec = m.hostFile.file.abs;
        const dir = rel(migrationsDir(spec, entry));
        const d = dirs.get(dir) ?? { hosts: new Set<string>(), entry };
        d.hosts.add(host);
        if (side === 'head') {
          d.headSpec ??= spec;
          d.entry = entry;
        } else {
          d.baseSpec ??= spec;
          d.baseEntry ??= entry;
        }
        dirs.set(dir, d);
      }
    }
  };
  visit(i.before, relBase, 'base');
  visit(i.head, relHead, 'head');
  const files: MigrationFileReview[] = [];
  const findings: ReviewFinding[] = [];
  for (const [dir, d] of dirs) {
    const under = sqlChanged.filter(([p]) => path.dirname(p) === dir);
    if (!under.length) continue;
    const read = (spec: string | undefined, entry: MigrationsSpec | undefined) => new Map((spec && entry ? readMigrationDir(spec, entry).files : []).map((f) => [path.basename(f.file), f] as [string, MigrationFile]));
    const headFiles = read(d.headSpec, d.entry);
    const baseFiles = read(d.baseSpec, d.baseEntry ?? d.entry);
    const baseVersions = [...baseFiles.values()].map((f) => f.version).sort(compareVersions);
    const hosts = [...d.hosts].sort();
    for (const [p, status] of under) {
      const name = path.basename(p);
      const shownPath = displayPath(path.join(i.top, p));
      const h = headFiles.get(name);
      const b = baseFiles.get(name);
      const version = (h ?? b)?.version ?? name.split('_')[0]!;
      const released = status !== 'added' && !!b;
      const entry: MigrationFileReview = { hosts, entry: d.entry.name, file: shownPath, version, status, released, risk: 'none', reasons: [] };
      const flag = (severity: Diagnostic['severity'], message: string) => findings.push({ file: shownPath, line: 1, col: 1, severity, message, hosts });
      if (status === 'added' || !b) {
        // The kind's judgement of moving the target from the newest released version up to this one.
        const below = baseVersions.filter((v) => compareVersions(v, version) < 0).at(-1) ?? '0';
        const spec = (target: string): HostSpec => ({ host: hosts[0] ?? 'host', migrations: [{ ...d.entry, target }] });
        const [c] = await reviewSpecs(spec(below), spec(version));
        entry.risk = c?.risk ?? 'none';
        entry.reasons.push(...(c?.reasons ?? []), 'runs at the next apply of the migrating host');
        const newest = baseVersions.at(-1);
        if (newest && compareVersions(version, newest) < 0 && !d.entry.allowOutOfOrder) flag('warning', `migrations[${d.entry.name}]: ${name} is older than ${newest}, released at ${i.ref}: a database at ${newest} refuses it unless allowOutOfOrder: true`);
      } else if (status === 'removed') {
        entry.reasons.push('an already-released migration removed');
        flag('error', `migrations[${d.entry.name}]: ${name} existed at ${i.ref} and is removed: a database that applied it can no longer be planned; add a new migration instead`);
      } else if (h && h.checksum !== b.checksum) {
        entry.reasons.push('the up section of an already-released migration changed');
        flag('error', `migrations[${d.entry.name}]: ${name} existed at ${i.ref} and its up section changed: a database that applied it fails with a checksum mismatch; add a new migration instead`);
      } else {
        entry.reasons.push('changed after release; its up section (the checksum) is the same');
        flag('warning', `migrations[${d.entry.name}]: ${name} existed at ${i.ref} and changed outside its up section`);
      }
      files.push(entry);
    }
  }
  return { files: files.sort((a, b) => a.file.localeCompare(b.file)), findings };
}

/**
 * Per rollout group, the hosts whose changes reach its gate (DESIGN §8.4 rule 1: they take a slot)
 * and the waves that makes at its maxParallel: the summary's "maxParallel 50 -> about 47 waves".
 */
function waves(fleet: Fleet, affected: AffectedHost[]): RolloutWaves[] {
  const counts = new Map<string, number>();
  const groups = new Map<string, ReturnType<typeof contextOf>['groups'][number]>();
  for (const a of affected) {
    const h = fleet.hosts.get(a.host);
    if (!h || !a.changes.length) continue;
    for (const g of h.groups) {
      if (!groups.has(g)) {
        const rg = contextOf(fleet, h).groups.find((x) => x.name === g);
        if (rg) groups.set(g, rg);
      }
      const rg = groups.get(g);
      if (rg && RISKS.indexOf(a.risk) >= RISKS.indexOf(rg.rollout.gate)) counts.set(g, (counts.get(g) ?? 0) + 1);
    }
  }
  return [...counts]
    .map(([group, hosts]) => {
      const limit = slotLimit(groups.get(group)!);
      return { group, maxParallel: limit, hosts, waves: Math.ceil(hosts / limit) };
    })
    .sort((a, b) => b.waves - a.waves || a.group.localeCompare(b.group));
}

function groupSizes(fleet: Fleet): { name: string; size: number }[] {
  const size = new Map<string, number>([...fleet.groups.keys()].map((g) => [g, 0]));
  for (const h of fleet.hosts.values()) for (const g of h.groups) size.set(g, (size.get(g) ?? 0) + 1);
  return [...size].map(([name, n]) => ({ name, size: n })).sort((a, b) => a.name.localeCompare(b.name));
}
