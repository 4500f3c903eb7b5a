/**
 * Help, the man page and the bash completion, all made from the command definitions: one source,
 * so a flag documented in one is documented in all (a test fails when a generated file is stale).
 */
import { COMMANDS, COMMON_OPTIONS, type CommandDef, type CommandName, type OptionDef } from './definitions.js';

const WIDTH = 100;

function flagLabel(name: string, o: OptionDef): string {
  return `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
}

/** Words wrapped to `width`, each line after the first indented by `indent`. */
function wrap(text: string, indent: number, first: number, width = WIDTH): string {
  const lines: string[] = [];
  let line = '';
  let room = width - first;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
      room = width - indent;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

function table(rows: [string, string][]): string[] {
  const w = Math.min(24, Math.max(...rows.map(([l]) => l.length)) + 2);
  return rows.map(([label, help]) => {
    const pad = 2 + w;
    return label.length + 2 > w ? `  ${label}\n${' '.repeat(pad)}${wrap(help, pad, pad)}` : `  ${label.padEnd(w)}${wrap(help, pad, pad)}`;
  });
}

/** `reconcile COMMAND --help` and `reconcile help COMMAND`. */
export function commandHelp(name: CommandName): string {
  const d: CommandDef = COMMANDS[name];
  const usage = d.usage.map((u, i) => `${i === 0 ? 'usage: ' : '       '}reconcile ${name} ${u}`);
  const rows: [string, string][] = [...(d.args ?? []).map(([a, h]) => [a, h] as [string, string]), ...Object.entries(d.options).map(([n, o]) => [flagLabel(n, o), o.help] as [string, string])];
  return [
    ...usage,
    '',
    d.description,
    ...(rows.length ? ['', d.args?.length ? 'arguments and options:' : 'options:', ...table(rows)] : []),
    ...(d.notes ? ['', d.notes] : []),
    '',
    `Every command also takes ${Object.entries(COMMON_OPTIONS).map(([n, o]) => flagLabel(n, o)).join(', ')}.`,
    '',
    'examples:',
    ...d.examples.flatMap(([cmd, what]) => [`  $ ${cmd}`, `      ${wrap(what, 6, 6)}`]),
    '',
    d.exit,
    '',
  ].join('\n');
}

export function topHelp(): string {
  return `usage: reconcile COMMAND [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(11)}${c.about}`)
  .join('\n')}

Every command takes --help, --no-color, --quiet, --verbose. NO_COLOR is honoured.
reconcile help COMMAND shows a command's options and examples; man reconcile shows them all.
exit codes: 0 ok / in sync · 2 changes pending · 1 error
`;
}

/** roff text: backslashes and leading dots or quotes would be read as requests. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

/** man/reconcile.1: every command, its options and examples. */
export function manPage(version: string): string {
  const out = [
    `.TH RECONCILE 1 "" "reconcile ${roff(version)}" "User Commands"`,
    '.SH NAME',
    'reconcile \\- declarative config\\-as\\-code reconciler for Linux hosts',
    '.SH SYNOPSIS',
    '.B reconcile',
    '.I COMMAND',
    '[options]',
    '.SH DESCRIPTION',
    roff('One YAML spec per host says what the host should be: files under /etc (exports, fstab, systemd units), mounts, the time zone, PostgreSQL and migrations. reconcile plans what differs and applies it under a lock, then proves the host matches.'),
    '.SH COMMANDS',
  ];
  for (const [name, dRaw] of Object.entries(COMMANDS)) {
    const d: CommandDef = dRaw;
    out.push('.SS', `.B reconcile ${name}`);
    for (const u of d.usage) out.push(`.br`, roff(`reconcile ${name} ${u.trim()}`));
    out.push('.PP', roff(d.description.replace(/\n/g, ' ')));
    for (const [a, h] of d.args ?? []) out.push('.TP', `.I ${roff(a)}`, roff(h));
    for (const [n, o] of Object.entries(d.options)) out.push('.TP', `.B ${roff(flagLabel(n, o))}`, roff(o.help));
    if (d.notes) out.push('.PP', roff(d.notes.replace(/\n/g, ' ')));
    out.push('.PP', 'Examples:');
    for (const [cmd, what] of d.examples) out.push('.RS', '.nf', roff(cmd), '.fi', '.RE', roff(what));
    out.push('.PP', roff(d.exit));
  }
  out.push('.SH COMMON OPTIONS');
  for (const [n, o] of Object.entries(COMMON_OPTIONS)) out.push('.TP', `.B ${roff(flagLabel(n, o))}`, roff(o.help));
  out.push('.SH EXIT STATUS', roff('0 ok, in sync or converged; 2 changes pending, attention needed or deferred; 1 error. The same for every command.'));
  out.push('.SH ENVIRONMENT', '.TP', '.B NO_COLOR', 'no colour in any output.');
  return `${out.join('\n')}\n`;
}

/** completion/reconcile.bash: commands, subcommands, each command's flags, and their values. */
export function bashCompletion(): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const commonFlags = Object.entries(COMMON_OPTIONS).map(([n]) => `--${n}`);
  const cases: string[] = [];
  const values: string[] = [];
  for (const [name, dRaw] of Object.entries(COMMANDS)) {
    const d: CommandDef = dRaw;
    const flags = [...Object.keys(d.options).map((n) => `--${n}`), ...commonFlags];
    const sub = name === 'help' ? Object.keys(COMMANDS).join(' ') : (d.subcommands ?? []).join(' ');
    cases.push(`    ${name}) flags=${q(flags.join(' '))}; subs=${q(sub)} ;;`);
    for (const [n, o] of Object.entries(d.options)) {
      if (o.type !== 'string') continue;
      const action = o.choices ? `COMPREPLY=($(compgen -W ${q(o.choices.join(' '))} -- "$cur"))` : o.file ? 'COMPREPLY=($(compgen -f -- "$cur"))' : 'COMPREPLY=()';
      values.push(`    ${name}:--${n}) ${action}; return ;;`);
    }
  }
  return `# bash completion for reconcile; generated from src/cli/definitions.ts (npm run docs): do not edit
_reconcile() {
  local cur prev cmd flags subs
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W ${q(Object.keys(COMMANDS).join(' '))} -- "$cur"))
    return
  fi
  cmd="\${COMP_WORDS[1]}"
  case "$cmd:$prev" in
${values.join('\n')}
  esac
  case "$cmd" in
${cases.join('\n')}
    *) return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [ "$COMP_CWORD" -eq 2 ] && [ -n "$subs" ]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _reconcile reconcile
`;
}
