import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import * as path from 'node:path';
import type { Diagnostic } from '../errors.js';
import type { HostSpec } from './types.js';
import type { SecretRefAt } from './secrets.js';
import { VERSION } from '../version.js';
import { SCHEMA_URL } from './schema-url.js';
import { besideModule, FROM_SOURCE } from '../package-root.js';

/**
 * Checked specs by content: a converged plan or a drift check on a timer reads the same spec again
 * and again, and parsing YAML with positions is most of its cost. An entry holds the value and
 * the warnings of a spec that passed every check; the key covers everything the checks read
 * (the text, the root whose tzdata was checked, --strict, this version and build, the schema), so a hit
 * is the same answer. Errors are never cached. A cache that cannot be read or written is skipped.
 */
const MAX_ENTRIES = 200;

export interface CachedSpec {
  value: HostSpec;
  warnings: Diagnostic[];
  /** Where the value's secret references stand: found once, when the spec was checked. */
  secretRefs?: SecretRefAt[];
}

/** The stores: checked specs, and converged plans with the trace of what they read (src/apply/memo.ts). */
export type CacheStore = 'specs' | 'plans';

function cacheDir(store: CacheStore): string {
  const base = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(base, 'reconcile', store);
}

let schemaSha: string | undefined;
let checkerBuild: number | undefined;

/**
 * When the checker was built: the build writes every kind's rules with it, so an entry another
 * build wrote (same version, other rules: a developer's tree, an upgrade without a version bump)
 * is never taken for this build's answer.
 */
function checkerBuildTime(): number {
  try {
    return statSync(besideModule('resources', FROM_SOURCE ? 'check.ts' : 'check.js')).mtimeMs;
  } catch {
    return 0;
  }
}

/** This version and build of reconcile: an entry another build wrote is never taken for this one's answer. */
export function buildIdentity(): string {
  checkerBuild ??= checkerBuildTime();
  return `${VERSION} ${checkerBuild}`;
}

export function specCacheKey(text: string, context: { root: string; strict: boolean; ownUnits?: boolean }): string {
  schemaSha ??= createHash('sha256').update(readFileSync(SCHEMA_URL)).digest('hex');
  return createHash('sha256').update(JSON.stringify([buildIdentity(), schemaSha, context.root, context.strict, ...(context.ownUnits ? ['ownUnits'] : [])])).update('\0').update(text).digest('hex');
}

export function readCachedSpec(key: string): CachedSpec | undefined {
  return readCacheEntry<CachedSpec>('specs', key);
}

export function writeCachedSpec(key: string, entry: CachedSpec): void {
  writeCacheEntry('specs', key, entry);
}

/** RECONCILE_NO_CACHE=1 reads and writes no entry: every spec is checked, every plan observes in full. */
export function readCacheEntry<T>(store: CacheStore, key: string): T | undefined {
  if (process.env.RECONCILE_NO_CACHE) return undefined;
  try {
    const dir = cacheDir(store);
    const file = path.join(dir, `${key}.json`);
    // An entry is taken for a checked answer: only one that only we could have written counts.
    if (!ownedByUs(dir) || !ownedByUs(file)) return undefined;
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function ownedByUs(p: string): boolean {
  const st = statSync(p);
  return st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
}

export function writeCacheEntry(store: CacheStore, key: string, entry: unknown): void {
  if (process.env.RECONCILE_NO_CACHE) return;
  try {
    const dir = cacheDir(store);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${key}.json`);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(entry), { mode: 0o600 });
    renameSync(tmp, file);
    prune(dir);
  } catch {
    // A read-only or full home directory only costs speed.
  }
}

function prune(dir: string): void {
  const names = readdirSync(dir);
  if (names.length <= MAX_ENTRIES) return;
  const byAge = names.map((n) => ({ n, t: statSync(path.join(dir, n)).mtimeMs })).sort((a, b) => a.t - b.t);
  for (const { n } of byAge.slice(0, names.length - MAX_ENTRIES)) unlinkSync(path.join(dir, n));
}
