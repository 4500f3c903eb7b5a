import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { UserError, formatDiagnostic } from '../errors.js';
import { parseSpec } from '../spec/load.js';
import { loadAndValidate } from '../resources/validate.js';
import type { HostSpec } from '../spec/types.js';
import { maxRisk, RISKS, type Risk } from '../plan/types.js';
import { reviewSpecs, type ReviewedChange } from './risk.js';
import { git, resolveBase } from './git.js';

export const REVIEW_FORMAT_VERSION = 1;

export interface SpecReview {
  path: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  changes: ReviewedChange[];
  /** Validation and security lint of the working-tree version (FILE:LINE:COL: message). */
  errors: string[];
  warnings: string[];
}

export interface Review {
  formatVersion: number;
  base: { ref: string; commit: string };
  specs: SpecReview[];
  risk: Risk;
  /** Restart or worse: what makes `review` exit 2. */
  risky: boolean;
}

/** The file's text at a commit, null when it did not exist there. `./` makes the path relative to its own directory. */
async function showAt(file: string, commit: string): Promise<string | null> {
  const dir = path.dirname(path.resolve(file));
  const r = await git(dir, ['show', `${commit}:./${path.basename(file)}`]);
  if (r.ok) return r.stdout;
  if (/does not exist|exists on disk, but not in/.test(r.stderr)) return null;
  throw new UserError(`reconcile review: git show ${commit.slice(0, 12)}:${file}: ${r.stderr.trim().split('\n')[0] ?? `exit ${r.exitCode}`}`);
}

/** Specs that changed since the base (tracked, untracked and deleted YAML files under cwd). */
async function changedSpecFiles(cwd: string, commit: string): Promise<string[]> {
  const [diff, untracked] = await Promise.all([
    git(cwd, ['diff', '--name-only', '--relative', '--no-renames', commit, '--']),
    git(cwd, ['ls-files', '--others', '--exclude-standard']),
  ]);
  if (!diff.ok) throw new UserError(`reconcile review: git diff ${commit.slice(0, 12)}: ${diff.stderr.trim().split('\n')[0]}`);
  const files = [...diff.stdout.split('\n'), ...(untracked.ok ? untracked.stdout.split('\n') : [])].filter((f) => /\.ya?ml$/.test(f));
  return [...new Set(files)].sort().map((f) => path.join(cwd, f));
}

const looksLikeSpec = (v: unknown): v is HostSpec => !!v && typeof v === 'object' && !Array.isArray(v) && typeof (v as HostSpec).host === 'string';

export async function review(ref: string, files: string[], cwd = process.cwd()): Promise<Review> {
  const commit = await resolveBase(files[0] ? path.dirname(path.resolve(files[0])) : cwd, ref);
  const explicit = files.length > 0;
  const targets = explicit ? files : await changedSpecFiles(cwd, commit);
  const specs: SpecReview[] = [];
  for (const file of targets) {
    const oldText = await showAt(file, commit);
    const exists = existsSync(file);
    if (oldText === null && !exists) throw new UserError(`${file}: not in the working tree nor at ${ref}`);
    const before = oldText === null ? undefined : parseSpec(oldText, `${ref}:${file}`).spec.value;
    let after: HostSpec | undefined;
    const errors: string[] = [];
    const warnings: string[] = [];
    if (exists) {
      const { spec, diagnostics } = await loadAndValidate(file);
      for (const d of diagnostics) (d.severity === 'error' ? errors : warnings).push(formatDiagnostic(d));
      after = spec.value;
    }
    // Without explicit specs, YAML that is not a host spec on either side is not ours to review.
    if (!explicit && !looksLikeSpec(before) && !looksLikeSpec(after)) continue;
    // An invalid new version is not reviewed resource by resource: its errors are the review.
    const changes = errors.length ? [] : await reviewSpecs(looksLikeSpec(before) ? before : undefined, looksLikeSpec(after) ? after : undefined);
    const status = oldText === null ? 'added' : !exists ? 'removed' : changes.length ? 'changed' : 'unchanged';
    specs.push({ path: file, status, changes, errors, warnings });
  }
  const risk = maxRisk(specs.flatMap((s) => s.changes.map((c) => c.risk)));
  return { formatVersion: REVIEW_FORMAT_VERSION, base: { ref, commit }, specs, risk, risky: RISKS.indexOf(risk) >= RISKS.indexOf('restart') };
}
