/**
 * The command definitions are the one source of --help, `help COMMAND`, the man page and the bash
 * completion: generated files must be current, every command must show an example, and usage
 * errors are ours (did-you-mean), not Node's parser text.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, type CommandDef } from '../src/cli/definitions.js';
import { bashCompletion, commandHelp, manPage, topHelp } from '../src/cli/docs.js';
import { VERSION } from '../src/version.js';
import { REPO, runCli, runInProcess } from './helpers/cli.js';

const read = (f: string) => readFileSync(path.join(REPO, f), 'utf8');

describe('generated files', () => {
  it('man/reconcile.1 is what `npm run docs` makes from the definitions', () => {
    expect(read('man/reconcile.1'), 'man/reconcile.1 is out of date: run npm run docs').toBe(manPage(VERSION));
  });

  it('completion/reconcile.bash is what `npm run docs` makes, and `reconcile completion bash` prints it', async () => {
    expect(read('completion/reconcile.bash'), 'completion/reconcile.bash is out of date: run npm run docs').toBe(bashCompletion());
    const r = await runCli(['completion', 'bash']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(read('completion/reconcile.bash'));
  });

  it('the man page is valid roff: man renders every command and its examples', () => {
    const r = spawnSync('man', ['-l', path.join(REPO, 'man/reconcile.1')], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '200', MAN_KEEP_FORMATTING: '' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    for (const name of Object.keys(COMMANDS)) expect(r.stdout).toContain(`reconcile ${name}`);
    expect(r.stdout).toContain('reconcile apply db1.plan --lock-timeout 30s');
  });
});

describe('definitions', () => {
  for (const [name, dRaw] of Object.entries(COMMANDS)) {
    const d: CommandDef = dRaw;
    it(`${name}: has an example, a usage and help for every option, and --help shows them`, async () => {
      expect(d.examples.length, `${name} has no example`).toBeGreaterThan(0);
      for (const [cmd, what] of d.examples) {
        expect(cmd.startsWith('reconcile ') || cmd.includes('reconcile '), `example of ${name} does not run reconcile: ${cmd}`).toBe(true);
        expect(what.length).toBeGreaterThan(0);
      }
      for (const [flag, o] of Object.entries(d.options)) expect(o.help.length, `--${flag} of ${name} has no help`).toBeGreaterThan(0);
      const r = await runInProcess([name, '--help'], 10_000);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(commandHelp(name as keyof typeof COMMANDS));
      expect(r.stdout).toContain('examples:');
      expect(r.stdout).toContain(`$ ${d.examples[0]![0]}`);
      for (const flag of Object.keys(d.options)) expect(r.stdout).toContain(`--${flag}`);
    });

    it(`${name}: accepts every flag its definition declares`, async () => {
      // --help last: the flags are parsed, then help is printed instead of running the command.
      const argv = [name, ...Object.entries(d.options).flatMap(([flag, o]) => (o.type === 'string' ? [`--${flag}`, o.choices?.[0] ?? 'x'] : [`--${flag}`])), '--help'];
      const r = await runInProcess(argv, 10_000);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
    });
  }
});

describe('help', () => {
  it('before: `reconcile help plan` printed the top-level help; after: the help of plan', async () => {
    const r = await runCli(['help', 'plan']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).not.toBe(topHelp());
    expect(r.stdout).toBe((await runCli(['plan', '--help'])).stdout);
    expect(r.stdout).toMatch(/^usage: reconcile plan SPEC/);
  });

  it('help of an unknown command names the nearest one', async () => {
    const r = await runCli(['help', 'aply']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('unknown command "aply"; did you mean apply?');
  });

  it('the top-level help lists every command', async () => {
    const r = await runCli(['help']);
    expect(r.exitCode).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(r.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
  });
});

describe('usage errors', () => {
  it("before: Node's \"Unknown option '--formt'\"; after: ours, with did you mean --format?", async () => {
    const r = await runCli(['plan', 'x.yaml', '--formt', 'json']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).not.toContain('Unknown option');
    expect(r.stderr).not.toContain('strict:false');
    expect(r.stderr.trim()).toBe('reconcile plan: unknown option --formt; did you mean --format? (see reconcile help plan)');
  });

  it('hostile argv: far-off flags, =values, clusters, missing values, a value that looks like a flag', async () => {
    const cases: [string[], string][] = [
      [['apply', 'x', '--zzzzzzzz'], 'reconcile apply: unknown option --zzzzzzzz (see reconcile help apply)'],
      [['apply', 'x', '--lock-timeot=5s'], 'unknown option --lock-timeot; did you mean --lock-timeout?'],
      [['apply', 'x', '--yes=no'], 'reconcile apply: --yes takes no value'],
      [['apply', 'x', '--root'], 'reconcile apply: --root needs a value (--root DIR)'],
      [['apply', 'x', '--root', '--yes'], 'a value starting with a dash is written --root=--yes'],
      [['apply', 'x', '-yz'], 'unknown option -z (in -yz)'],
      [['apply', 'x', '-format', 'json'], 'long options take two dashes (--format)'],
      [['plan', 'x', '--format', 'jsn'], '--format must be one of text, json, markdown, not "jsn" (did you mean json?)'],
      [['plna', 'x'], 'unknown command "plna"; did you mean plan?'],
    ];
    for (const [argv, message] of cases) {
      const r = await runInProcess(argv, 10_000);
      expect(r.exitCode, argv.join(' ')).toBe(1);
      expect(r.stderr, argv.join(' ')).toContain(message);
      expect(r.stderr).not.toMatch(/ERR_PARSE_ARGS|at .*\.js:\d+/);
    }
  });

  it('after --, anything is a positional', async () => {
    const r = await runInProcess(['validate', '--', '--no-such-file.yaml'], 10_000);
    expect(r.stderr).not.toContain('unknown option');
    expect(r.exitCode).toBe(1);
  });
});

describe('bash completion', () => {
  function complete(line: string): string[] {
    const words = line.split(' ');
    const script = `${bashCompletion()}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _reconcile; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['--norc', '-c', script], { encoding: 'utf8', cwd: REPO });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.split('\n').filter(Boolean);
  }

  it('completes commands, flags of the command, values of --format, and subcommands', () => {
    expect(complete('reconcile ap')).toEqual(['apply']);
    expect(complete('reconcile apply --lock')).toEqual(['--lock-timeout']);
    expect(complete('reconcile plan --format m')).toEqual(['markdown']);
    expect(complete('reconcile drift --format ')).toEqual(['text', 'json', 'prom']);
    expect(complete('reconcile db ')).toEqual(['inspect']);
    expect(complete('reconcile help dr')).toEqual(['drift']);
    expect(complete('reconcile plan --no-')).toEqual(['--no-color']);
  });
});
