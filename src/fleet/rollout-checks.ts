/**
 * What fleet.yaml's rollouts must say beyond their schema (DESIGN §8.4), at validate time, each
 * finding at the FILE:LINE:COL that said the value: a group that could never halt, and a health
 * gate whose command or URL cannot work as written (or would leak a password into status).
 */
import type { Diagnostic } from '../errors.js';
import type { PathSegment } from '../spec/load.js';
import { diagnosticIn } from './files.js';
import type { Fleet } from './inventory.js';
import { rolloutGroup, slotLimit } from './context.js';

type Raw = Record<string, unknown> | undefined;
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function rolloutChecks(fleet: Fleet): Diagnostic[] {
  const out: Diagnostic[] = [];
  const defaults = isMap(fleet.defaults.rollout) ? fleet.defaults.rollout : undefined;
  const at = (where: 'group' | 'defaults', group: string, ...rest: PathSegment[]): PathSegment[] => (where === 'group' ? ['groups', group, 'rollout', ...rest] : ['defaults', 'rollout', ...rest]);

  for (const [name, g] of fleet.groups) {
    const own: Raw = isMap(g.rollout) ? g.rollout : undefined;
    const rg = rolloutGroup(fleet, name);
    const limit = slotLimit(rg);
    const maxFailures = rg.rollout.maxFailures;
    // Rule 5, 1 ≤ maxFailures ≤ maxParallel: failed and abandoned slots keep their place (rule 3),
    // so past maxParallel failures every slot is a failed one and the group stops granting
    // without ever halting: no halt in fleet status, nothing for `fleet resume` to clear.
    if (typeof maxFailures === 'number' && maxFailures > limit) {
      const from = own?.maxFailures !== undefined ? at('group', name, 'maxFailures') : own?.maxParallel !== undefined ? at('group', name, 'maxParallel') : at('defaults', name, defaults?.maxFailures !== undefined ? 'maxFailures' : 'maxParallel');
      const parallel = typeof rg.rollout.maxParallel === 'string' ? `maxParallel ${rg.rollout.maxParallel} of its ${rg.size} host${rg.size === 1 ? '' : 's'} is ${limit}` : `maxParallel is ${limit}`;
      out.push(
        diagnosticIn(fleet.file, from, `groups.${name}: maxFailures ${maxFailures} is more than the group's slots (${parallel}): failed slots keep their place, so every slot would hold a failed host and the group would stop without ever halting; maxFailures must be between 1 and maxParallel`),
      );
    }
  }
  // Health gates as written, in the groups and the defaults alike (each reported where it is said).
  const gates: [string, PathSegment[], unknown][] = [
    ...[...fleet.groups].map(([name, g]): [string, PathSegment[], unknown] => [`groups.${name}`, at('group', name, 'health'), isMap(g.rollout) ? g.rollout.health : undefined]),
    ['defaults', at('defaults', '', 'health'), defaults?.health],
  ];
  for (const [label, path, health] of gates) {
    if (!isMap(health)) continue;
    if (Array.isArray(health.command)) out.push(...commandProblems(health.command).map(([i, m]) => diagnosticIn(fleet.file, [...path, 'command', ...(i === null ? [] : [i])], `${label}: ${m}`)));
    if (typeof health.http === 'string') {
      const problem = healthUrlProblem(health.http);
      if (problem) out.push(diagnosticIn(fleet.file, [...path, 'http'], `${label}: ${problem}`));
    }
  }
  return out;
}

/**
 * `health.command` is an argv run without a shell: its first word is an absolute path or a plain
 * name looked up in PATH (a relative path would depend on the apply's working directory); a first
 * word with blanks is a shell line written as one word; no word can carry a NUL, and a line break
 * in one is refused as well (it would also break the journal line that quotes the command).
 */
export function commandProblems(argv: unknown[]): [number | null, string][] {
  const out: [number | null, string][] = [];
  if (argv.length === 0) return [[null, 'health.command: an empty argv runs nothing; give the program and its arguments, e.g. [/usr/bin/curl, -fsS, http://127.0.0.1:8080/health]']];
  const first = argv[0];
  if (typeof first === 'string' && !/[\0\r\n]/.test(first)) {
    if (/\s/.test(first)) {
      out.push([0, `health.command[0]: ${JSON.stringify(first)} holds blanks: the command is an argv array, run without a shell, not a shell line; split it, e.g. [${first.trim().split(/\s+/).join(', ')}]`]);
    } else if (first === '') {
      out.push([0, 'health.command[0]: the program is empty']);
    } else if (!first.startsWith('/') && first.includes('/')) {
      out.push([0, `health.command[0]: ${JSON.stringify(first)} is a relative path, which would depend on the apply's working directory; give an absolute path or a plain name found in PATH`]);
    } else if (first.startsWith('/') && first.split('/').some((p) => p === '..' || p === '.')) {
      out.push([0, `health.command[0]: ${JSON.stringify(first)} has . or .. in it; give the program's plain absolute path`]);
    }
  }
  argv.forEach((word, i) => {
    if (typeof word !== 'string') return; // the schema said so
    if (/[\0\r\n]/.test(word)) out.push([i, `health.command[${i}]: holds a NUL byte or a line break; an argv word cannot carry one`]);
  });
  return out;
}

/**
 * `health.http`: an http or https URL that parses, without `user:password@` (the URL is written
 * into the journal and the fleet status when the gate fails), without blanks or control characters.
 */
export function healthUrlProblem(text: string): string | null {
  // The URL itself is never echoed: it may hold the very password refused below.
  if (/[\0-\x20\x7f]/.test(text)) return 'health.http: the URL holds a blank or a control character';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'health.http: not a URL (expected http://HOST[:PORT]/PATH or https://…)';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `health.http: ${url.protocol} is not http or https`;
  if (!url.hostname) return 'health.http: the URL names no host';
  if (url.username || url.password) return 'health.http: the URL holds a user or password (user:pass@), which would be written into the journal and the fleet status when the gate fails; give a URL without credentials (or a health.command that reads them from a file)';
  return null;
}
