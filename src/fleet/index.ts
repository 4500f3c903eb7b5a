import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { UserError, type Diagnostic } from '../errors.js';
import type { ValidateOptions } from '../resources/check.js';
import { checkMerged } from './check.js';
import { crossHostChecks, type Use } from './checks/index.js';
import { diagnosticIn, displayPath, findFleetRoot, isInside, realPath } from './files.js';
import { loadFleet, type Fleet, type FleetHost } from './inventory.js';
import { mergeContext, mergeHost, type MergeContext, type MergedSpec } from './merge.js';
import { formatPosition } from './origins.js';
import { selectHosts } from './select.js';
import { rolloutChecks } from './rollout-checks.js';

const hasErrors = (ds: Diagnostic[]) => ds.some((d) => d.severity === 'error');

export interface OpenFleet {
  fleet: Fleet;
  diagnostics: Diagnostic[];
  ctx: MergeContext;
}

export function openFleet(root: string): OpenFleet {
  const { fleet, diagnostics } = loadFleet(root);
  return { fleet, diagnostics: [...diagnostics, ...rolloutChecks(fleet)], ctx: mergeContext(root, fleet) };
}

/**
 * `reconcile spec HOST|SPEC`: a spec file (in a fleet or not), or a host of the fleet around the
 * working directory. The fleet's own diagnostics come first: a broken inventory breaks merges.
 */
export function mergeSpecArgument(arg: string, opened?: OpenFleet): { merged?: MergedSpec; diagnostics: Diagnostic[]; fleet?: Fleet } {
  const isFile = existsSync(arg) && statSync(arg).isFile();
  const start = isFile ? path.dirname(path.resolve(arg)) : process.cwd();
  const { fleetRoot, repoRoot } = findFleetRoot(start);
  if (!fleetRoot) {
    if (!isFile) throw new UserError(`reconcile spec: ${arg} is neither a spec file nor a host of a fleet (no fleet.yaml in ${process.cwd()} or above it)`);
    const merged = mergeHost(arg, mergeContext(repoRoot));
    return { merged, diagnostics: merged.diagnostics };
  }
  // An inventory opened once serves many hosts (plan --fleet): fragments are read once too.
  const open = opened && realPath(opened.fleet.root) === realPath(fleetRoot) ? opened : openFleet(fleetRoot);
  let host: FleetHost | undefined;
  if (isFile) {
    const abs = realPath(arg);
    host = [...open.fleet.hosts.values()].find((h) => realPath(h.spec) === abs);
  } else {
    host = open.fleet.hosts.get(arg);
    if (!host && !open.diagnostics.length) throw new UserError(`reconcile spec: no host ${arg} in ${open.fleet.file.display}`);
    if (host && !existsSync(host.spec)) throw new UserError(`${formatPosition(host.said, { key: true })}: ${displayPath(host.spec)}: no such spec file for host ${host.name}`);
  }
  // A host the broken inventory did not yield: its diagnostics say why.
  if (!host && !isFile) return { diagnostics: open.diagnostics, fleet: open.fleet };
  const merged = mergeHost(host?.spec ?? arg, open.ctx, host);
  return { merged, diagnostics: [...open.diagnostics, ...merged.diagnostics], fleet: open.fleet };
}

export interface FleetValidation {
  fleet: Fleet;
  hosts: number;
  diagnostics: Diagnostic[];
  merged: Map<string, MergedSpec>;
}

/** What `review` reads of a fleet: every host's merge (valid or not), and what hosts use of each other. */
export interface FleetAnalysis extends FleetValidation {
  /** Every host whose spec exists, its merge kept even when it failed (its sources still count). */
  all: Map<string, MergedSpec>;
  uses: Use[];
  /** The findings between hosts alone (also in `diagnostics`). */
  between: Diagnostic[];
}

/**
 * `validate --fleet`: the inventory, then every host merged and checked by the spec checker.
 * `limit` (the terms of --limit, see select.ts): every host is still merged and checked, as the
 * checks between hosts need the whole fleet, but only the selected hosts' findings are reported:
 * their own, and those between hosts that point into one of their files.
 */
export function validateFleet(dir: string, options: ValidateOptions & { limit?: string[] } = {}): FleetValidation {
  const { fleetRoot } = findFleetRoot(dir);
  if (!fleetRoot) throw new UserError(`reconcile validate --fleet: no fleet.yaml in ${dir} or above it (up to the repository root)`);
  const open = openFleet(fleetRoot);
  const selected = options.limit?.length && !hasErrors(open.diagnostics) ? selectHosts(open.fleet, options.limit) : undefined;
  const a = analyseFleet(fleetRoot, options, open, selected);
  let diagnostics = a.diagnostics;
  if (selected) {
    const files = new Set([...a.merged.values()].filter((m) => selected.has(m.host)).flatMap((m) => m.sources.map((s) => s.file.display)));
    const between = new Set(a.between);
    diagnostics = diagnostics.filter((d) => !between.has(d) || files.has(d.file));
  }
  return { fleet: a.fleet, hosts: selected?.size ?? a.hosts, diagnostics: collapse(diagnostics), merged: a.merged };
}

/**
 * The fleet rooted at `fleetRoot`, each finding once per host (not collapsed across hosts).
 * Hosts outside `selected` are merged and checked for the checks between hosts; their own
 * findings are not kept.
 */
export function analyseFleet(fleetRoot: string, options: ValidateOptions = {}, open = openFleet(fleetRoot), selected?: Set<string>): FleetAnalysis {
  const diagnostics = [...open.diagnostics];
  const merged = new Map<string, MergedSpec>();
  const all = new Map<string, MergedSpec>();
  for (const host of open.fleet.hosts.values()) {
    // A host outside --limit is merged and checked for the checks between hosts; its findings are not reported.
    const out = selected && !selected.has(host.name) ? [] : diagnostics;
    if (!isInside(realPath(host.spec), realPath(fleetRoot))) {
      out.push(diagnosticIn(host.said.file, [...host.said.at, 'spec'], `hosts.${host.name}: its spec ${displayPath(host.spec)} is outside the repository (${fleetRoot})`));
      continue;
    }
    if (!existsSync(host.spec)) {
      const named = (host.said.file.value as { hosts?: Record<string, { spec?: string }> }).hosts?.[host.name]?.spec !== undefined;
      const hint = named ? '' : ' (the default is hosts/<name>.yaml; say spec: to name another)';
      out.push(diagnosticIn(host.said.file, host.said.at, `hosts.${host.name}: its spec ${displayPath(host.spec)} does not exist${hint}`, { key: true }));
      continue;
    }
    const m = mergeHost(host.spec, open.ctx, host);
    all.set(host.name, m);
    out.push(...m.diagnostics);
    if (m.diagnostics.some((d) => d.severity === 'error')) continue;
    out.push(...checkMerged(m, options));
    merged.set(host.name, m);
  }
  // Between hosts: only hosts whose own spec passed take part (a broken one already said why).
  const uses: Use[] = [];
  const between = crossHostChecks({ fleet: open.fleet, merged, uses }, options);
  diagnostics.push(...between);
  return { fleet: open.fleet, hosts: open.fleet.hosts.size, diagnostics, merged, all, uses, between };
}

/**
 * One finding in a fragment that 50 hosts include is one line naming the hosts, not 50 lines.
 */
function collapse(ds: Diagnostic[]): Diagnostic[] {
  const groups = new Map<string, { d: Diagnostic; hosts: string[] }>();
  for (const d of ds) {
    const m = / \(included by host ([^)]+)\)$/.exec(d.message);
    const base = m ? d.message.slice(0, m.index) : d.message;
    const key = `${d.file}:${d.line}:${d.col}:${d.severity}:${base}`;
    const g = groups.get(key);
    if (g) {
      if (m) g.hosts.push(m[1]!);
    } else groups.set(key, { d: { ...d, message: base }, hosts: m ? [m[1]!] : [] });
  }
  return [...groups.values()].map(({ d, hosts }) => {
    if (!hosts.length) return d;
    const named = hosts.length <= 3 ? hosts.join(', ') : `${hosts.slice(0, 3).join(', ')} and ${hosts.length - 3} more`;
    return { ...d, message: `${d.message} (included by host${hosts.length > 1 ? 's' : ''} ${named})` };
  });
}

/**
 * The fleet around `dir` and the hosts `--limit` selects (all without terms), in fleet order; for
 * commands that work host by host (spec --limit, plan --fleet). A broken inventory comes back as
 * diagnostics with no host.
 */
export function openSelected(dir: string, limit: string[] = [], command = 'reconcile'): { open: OpenFleet; hosts: FleetHost[] } {
  const { fleetRoot } = findFleetRoot(dir);
  if (!fleetRoot) throw new UserError(`${command}: no fleet.yaml in ${dir} or above it (up to the repository root)`);
  const open = openFleet(fleetRoot);
  if (hasErrors(open.diagnostics)) return { open, hosts: [] };
  const selected = selectHosts(open.fleet, limit);
  return { open, hosts: [...open.fleet.hosts.values()].filter((h) => selected.has(h.name)) };
}
