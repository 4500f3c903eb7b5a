/**
 * What a test needs from the machine: root, and system commands from Debian packages. CI
 * (`.ci/run`) runs as root and installs every package, so a missing prerequisite is a FAILING
 * test that names what to install, never a silent skip (`npm test` also fails when any test was
 * skipped: scripts/vitest-no-skips.mjs).
 *
 * The one escape, for a developer who is not root: RECONCILE_TEST_ALLOW_SKIP=1 skips those suites
 * instead (and lets `npm test` pass with the skips listed). CI never sets it.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'vitest';

export const ALLOW_SKIP_ENV = 'RECONCILE_TEST_ALLOW_SKIP';
const allowSkip = process.env[ALLOW_SKIP_ENV] === '1';

export interface Needs {
  /** Why root is needed (mounts, exportfs, a container); omitted: not needed. */
  root?: string;
  /** Commands on PATH (or absolute paths) and the Debian package that ships each. */
  commands?: Record<string, string>;
}

function onPath(command: string): boolean {
  if (command.includes('/')) return existsSync(command);
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  return dirs.some((d) => d && existsSync(path.join(d, command)));
}

/** What is missing for these needs, one sentence each naming the fix; empty when all is there. */
export function missing(needs: Needs): string[] {
  const out: string[] = [];
  if (needs.root && process.getuid?.() !== 0) out.push(`needs root (${needs.root}): run the tests as root, as .ci/run does`);
  for (const [command, pkg] of Object.entries(needs.commands ?? {})) {
    if (!onPath(command)) out.push(`needs ${command}: apt-get install ${pkg} (.ci/run installs it)`);
  }
  return out;
}

function fail(lacks: string[]): never {
  throw new Error(`${lacks.join('; ')}. To skip these tests on a developer machine instead, set ${ALLOW_SKIP_ENV}=1 (never in CI).`);
}

/**
 * describe() when the needs are met; otherwise a suite of one failing test that says what to
 * install (or, with RECONCILE_TEST_ALLOW_SKIP=1, the suite skipped).
 */
export function describeNeeding(needs: Needs, name: string, body: () => void): void {
  const lacks = missing(needs);
  if (!lacks.length) describe(name, body);
  else if (allowSkip) describe.skip(name, body);
  else describe(name, () => it('has what it needs on this machine', () => fail(lacks)));
}

/** it() when the needs are met; otherwise a failing test with the same name (or skipped, see above). */
export function itNeeding(needs: Needs, name: string, body: () => Promise<void> | void, timeoutMs?: number): void {
  const lacks = missing(needs);
  if (!lacks.length) it(name, body, timeoutMs);
  else if (allowSkip) it.skip(name, body);
  else it(name, () => fail(lacks));
}

/** For a check inside a test that runs anyway: throws the same message when a need is not met. */
export function assertHas(needs: Needs): boolean {
  const lacks = missing(needs);
  if (!lacks.length) return true;
  if (allowSkip) return false;
  fail(lacks);
}
