/**
 * Runs mutants of the example specs through `validate` and `plan --root` of the CLI, in process
 * (main() of src/cli/main.ts, output captured) or as a subprocess, and checks the promises of
 * DESIGN.md §5 for bad input: exit 0, 1 or 2; no stack trace or internal error; an answer within
 * a deadline; nothing written anywhere around the root (nor in it: both commands only read).
 */
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPO, runCli, runInProcess, type Outcome } from '../helpers/cli.js';
import { mutate, type Mutant } from './mutate.js';

/** Secrets the examples reference, all pointing at 127.0.0.1 port 1 (refused at once). */
export const FUZZ_ENV: Record<string, string> = {
  APP_DATABASE_URL: 'postgres://app:fuzz-db-pw@127.0.0.1:1/app',
  CIFS_PASSWORD: 'fuzz-cifs-pw',
  REPL_PASSWORD: 'fuzz-repl-pw',
  // Each mutant is checked in full, not answered from the spec cache in $HOME.
  RECONCILE_NO_CACHE: '1',
};

export interface Example {
  name: string;
  text: string;
}

/** The example specs, with every network endpoint moved to 127.0.0.1 port 1. */
export function examples(): Example[] {
  return readdirSync(path.join(REPO, 'examples'))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({
      name: f,
      text: readFileSync(path.join(REPO, 'examples', f), 'utf8').replace(/host: 192\.168\.1\.99, port: 5432/, 'host: 127.0.0.1, port: 1'),
    }));
}

/**
 * base/sentinel, base/a/sentinel, base/a/b/{root,spec.yaml,migrations}: an escape of up to three
 * '..' from the root or the spec's directory still lands inside base, where it is seen.
 */
export class FuzzBed {
  readonly base = mkdtempSync(path.join(tmpdir(), 'reconcile-fuzz-'));
  readonly dir = path.join(this.base, 'a', 'b');
  readonly root = path.join(this.dir, 'root');
  readonly spec = path.join(this.dir, 'spec.yaml');
  private readonly before: string;

  constructor() {
    for (const s of [path.join(this.base, 'sentinel'), path.join(this.base, 'a', 'sentinel')]) {
      mkdirSync(s, { recursive: true });
      writeFileSync(path.join(s, 'keep'), 'sentinel\n');
    }
    cpSync(path.join(REPO, 'examples', 'roots', 'nfs-server'), this.root, { recursive: true, verbatimSymlinks: true });
    cpSync(path.join(REPO, 'examples', 'migrations'), path.join(this.dir, 'migrations'), { recursive: true });
    writeFileSync(this.spec, '');
    this.before = this.snapshot();
  }

  /** Every entry under base but the spec: path, type, mode, size, mtime, link target. */
  snapshot(): string {
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir).sort()) {
        const p = path.join(dir, name);
        if (p === this.spec) continue;
        const st = lstatSync(p);
        out.push(`${path.relative(this.base, p)} ${st.mode.toString(8)} ${st.isDirectory() ? '-' : st.size} ${st.isDirectory() ? '-' : st.mtimeMs} ${st.isSymbolicLink() ? readlinkSync(p) : ''}`);
        if (st.isDirectory()) walk(p);
      }
    };
    walk(this.base);
    return out.join('\n');
  }

  /** What changed around and under the root since the bed was made; '' when nothing. */
  changed(): string {
    const now = this.snapshot();
    if (now === this.before) return '';
    const a = new Set(this.before.split('\n'));
    const b = new Set(now.split('\n'));
    return [...[...a].filter((l) => !b.has(l)).map((l) => `- ${l}`), ...[...b].filter((l) => !a.has(l)).map((l) => `+ ${l}`)].join('\n');
  }

  cleanup(): void {
    rmSync(this.base, { recursive: true, force: true });
  }
}

export async function runSubprocess(argv: string[], timeoutMs: number): Promise<Outcome> {
  const t0 = performance.now();
  const r = await runCli(argv, { timeoutMs });
  const ms = Math.round(performance.now() - t0);
  return { exitCode: ms >= timeoutMs ? 'timeout' : r.exitCode, stdout: r.stdout, stderr: r.stderr, ms };
}

const STACK = /^\s+at .+:\d+:\d+\)?$/m;
const CRASH = /\b(TypeError|RangeError|ReferenceError|internal error|main\(\) rejected|Maximum call stack)\b/;

/** Why this outcome breaks a promise; null when it keeps them all. */
export function breach(o: Outcome): string | null {
  if (o.exitCode === 'timeout') return 'no answer within the deadline (hang)';
  if (![0, 1, 2].includes(o.exitCode)) return `exit ${o.exitCode}, not 0, 1 or 2`;
  const text = `${o.stdout}\n${o.stderr}`;
  if (STACK.test(text)) return 'a stack trace in the output';
  const crash = CRASH.exec(text);
  if (crash) return `a crash in the output (${crash[1]})`;
  for (const secret of [FUZZ_ENV.CIFS_PASSWORD!, FUZZ_ENV.REPL_PASSWORD!, 'fuzz-db-pw']) if (text.includes(secret)) return `the secret ${secret} in the output`;
  return null;
}

export interface Finding {
  seed: number;
  example: string;
  command: string;
  done: string[];
  problem: string;
  exitCode: Outcome['exitCode'];
  output: string;
  /** The mutant, for a reproduction: also rebuilt by mutate(example text, seed). */
  text: string;
}

export interface FuzzOptions {
  seed: number;
  count: number;
  /** Deadline per command run. */
  timeoutMs: number;
  /** Run every n-th mutant also as a subprocess of bin/reconcile (0: never). */
  subprocessEvery: number;
  /** Stop after this many findings. */
  maxFindings?: number;
}

export interface FuzzResult {
  findings: Finding[];
  runs: number;
  ms: number;
  exits: Record<string, number>;
  /** Milliseconds spent per example and command. */
  msBy: Record<string, number>;
}

/** count mutants from seed, seed+1, …; mutant s is of example s mod the number of examples (so FUZZ_SEED=s FUZZ_COUNT=1 replays it), through validate and plan. */
export async function fuzz(bed: FuzzBed, o: FuzzOptions): Promise<FuzzResult> {
  const specs = examples();
  const findings: Finding[] = [];
  const exits: Record<string, number> = {};
  const msBy: Record<string, number> = {};
  let runs = 0;
  const t0 = performance.now();
  const saved = Object.fromEntries(Object.keys(FUZZ_ENV).map((k) => [k, process.env[k]]));
  Object.assign(process.env, FUZZ_ENV);
  try {
    for (let i = 0; i < o.count && findings.length < (o.maxFindings ?? 20); i++) {
      const seed = o.seed + i;
      const example = specs[seed % specs.length]!;
      const mutant: Mutant = mutate(example.text, seed);
      writeFileSync(bed.spec, mutant.text);
      const commands = [
        ['validate', bed.spec, '--root', bed.root, ...(seed % 2 ? ['--strict'] : [])],
        ['plan', bed.spec, '--root', bed.root, ...(seed % 3 === 0 ? ['--format', 'json'] : [])],
      ];
      const viaSubprocess = o.subprocessEvery > 0 && i % o.subprocessEvery === 0;
      for (const argv of commands) {
        const outcome = viaSubprocess ? await runSubprocess(argv, o.timeoutMs) : await runInProcess(argv, o.timeoutMs);
        runs++;
        const by = `${example.name} ${argv[0]}${viaSubprocess ? ' (subprocess)' : ''}`;
        msBy[by] = (msBy[by] ?? 0) + outcome.ms;
        exits[`${argv[0]} ${outcome.exitCode}`] = (exits[`${argv[0]} ${outcome.exitCode}`] ?? 0) + 1;
        const problem = breach(outcome) ?? (bed.changed() ? `wrote around or under the root:\n${bed.changed()}` : null);
        if (problem) {
          findings.push({
            seed,
            example: example.name,
            command: `${viaSubprocess ? 'bin/reconcile' : 'main()'} ${argv[0]}${argv.slice(4).map((a) => ` ${a}`).join('')}`,
            done: mutant.done,
            problem,
            exitCode: outcome.exitCode,
            output: `${outcome.stdout}\n${outcome.stderr}`.trim().slice(0, 2_000),
            text: mutant.text.length > 4_000 ? `${mutant.text.slice(0, 4_000)}…` : mutant.text,
          });
          break;
        }
      }
    }
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  return { findings, runs, ms: Math.round(performance.now() - t0), exits, msBy };
}

export function describeFinding(f: Finding): string {
  return [
    `seed ${f.seed} (${f.example}; replay: FUZZ_SEED=${f.seed} FUZZ_COUNT=1 npm run fuzz), ${f.command}: ${f.problem}`,
    `  mutations: ${f.done.join('; ')}`,
    `  exit: ${f.exitCode}`,
    `  output: ${f.output.replace(/\n/g, '\n    ')}`,
  ].join('\n');
}
