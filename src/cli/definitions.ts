/**
 * Every command's interface in one place: its options, usage, description and examples. `--help`,
 * `reconcile help COMMAND`, the top-level help, the man page and the bash completion are all made
 * from this table (src/cli/docs.ts), and each command parses its argv with its own entry here.
 * Pure data: main.ts reads it at start-up, so it must not import any command implementation.
 * Adding a flag is one line in a command's `options`.
 */

export interface OptionDef {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** A flag that may be given more than once. */
  readonly multiple?: boolean;
  /** The value's name in help (`--root DIR`); string options only. */
  readonly value?: string;
  /** The values a completion offers (`--format text|json`). */
  readonly choices?: readonly string[];
  /** Completion offers file names for the value. */
  readonly file?: boolean;
  readonly help: string;
}

export interface CommandDef {
  /** One line for the top-level help. */
  readonly about: string;
  /** Everything after `reconcile COMMAND `, one form per line. */
  readonly usage: readonly string[];
  readonly description: string;
  /** Positional arguments, described like options (`PLANFILE  a plan saved by ...`). */
  readonly args?: readonly (readonly [string, string])[];
  /** Subcommands a completion offers as the first word (`db inspect`). */
  readonly subcommands?: readonly string[];
  readonly options: Readonly<Record<string, OptionDef>>;
  readonly examples: readonly (readonly [command: string, what: string])[];
  readonly exit: string;
  /** Extra paragraphs after the options. */
  readonly notes?: string;
}

/** Flags every command takes. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h', help: 'print this help' },
  'no-color': { type: 'boolean', help: 'no colour (NO_COLOR in the environment does the same)' },
  quiet: { type: 'boolean', short: 'q', help: 'print less: nothing when all is well' },
  verbose: { type: 'boolean', short: 'v', help: 'print more, and a stack trace for internal errors' },
} as const satisfies Record<string, OptionDef>;

const root = { type: 'string', value: 'DIR', file: true, help: "DIR is the host's /: files are read and written under it; live-only actions are skipped (offline root)" } as const;
const lockTimeout = {
  type: 'string',
  value: 'DURATION',
  help: 'how long to wait for a held lock (e.g. 30s, 5m; default: the spec\'s lock.wait, else 10m); 0 fails at once. The wait names the holder at once and every 10s',
} as const;

export const COMMANDS = {
  validate: {
    about: 'check specs: schema, rules, security lint',
    usage: ['SPEC... [--root DIR] [--strict]', '--fleet [DIR] [--limit SEL] [--root DIR] [--strict]'],
    description: `Checks each spec: YAML syntax, the schema (schemas/host-spec.schema.json), semantic rules and the
security lint. Findings are printed as FILE:LINE:COL: message. A spec inside a fleet (fleet.yaml
between it and the repository root) is checked merged with its fragments.`,
    options: {
      root: { type: 'string', value: 'DIR', file: true, help: 'check host-dependent rules (tzdata) against DIR instead of /' },
      strict: { type: 'boolean', help: 'security lint findings are errors, not warnings' },
      fleet: { type: 'boolean', help: "every host of the fleet around DIR (default: here): fleet.yaml, then each host's spec with its fragments merged, checked as a spec" },
      limit: { type: 'string', multiple: true, value: 'SEL', help: 'with --fleet: report only these hosts\' findings (web*, group:web, !web3, &group:dc1; comma-separated or repeated); every host is still read for the checks between hosts' },
    },
    examples: [
      ['reconcile validate hosts/*.yaml', 'check every host spec; exit 1 names FILE:LINE:COL of each problem'],
      ['reconcile validate --fleet --strict', 'the whole fleet, with the checks between hosts, lint findings as errors'],
    ],
    exit: 'exit 0 valid · 1 invalid',
  },
  plan: {
    about: 'show what apply would change (exit 0 in sync, 2 changes)',
    usage: ['SPEC [--root DIR | --facts SNAPSHOT] [--format text|json|markdown] [--out PLANFILE] [--strict] [--target ADDRESS]...', '--fleet [DIR] --facts SNAPDIR [--limit SEL] [--format text|json|markdown] [--strict]'],
    description: `Observes the host, compares it with the spec and prints what apply would change: unified diffs,
steps, and the risk of each change. Nothing on the host is changed.`,
    options: {
      root,
      format: { type: 'string', value: 'FORMAT', choices: ['text', 'json', 'markdown'], help: 'text (default), json (versioned, stable) or markdown (for a pull-request comment)' },
      facts: { type: 'string', value: 'SNAPSHOT', file: true, help: 'plan against facts recorded on the host by `reconcile facts` (CI), not this machine' },
      out: { type: 'string', value: 'PLANFILE', file: true, help: 'save the plan; `reconcile apply PLANFILE` refuses it if the host changed since' },
      strict: { type: 'boolean', help: 'security lint findings are errors; with --fleet, a missing snapshot is an error' },
      fleet: { type: 'boolean', help: 'plan every host of the fleet around DIR (default: here) from SNAPDIR/<host>.json (one `reconcile facts` snapshot per host), touching no host; lists hosts without a snapshot and the age of each snapshot used' },
      limit: { type: 'string', multiple: true, value: 'SEL', help: 'with --fleet: only these hosts (web*, group:web, !web3, &group:dc1; comma-separated or repeated)' },
      target: { type: 'string', multiple: true, value: 'ADDRESS', help: "only this resource's changes, as the plan prints it (units[kafka.service], mounts[/mnt/x]); repeatable; a warning names what it shares with or needs from the rest" },
    },
    examples: [
      ['reconcile plan hosts/db1.yaml', 'what apply would change on this host; exit 2 when something would'],
      ['reconcile plan hosts/db1.yaml --out db1.plan', 'save the plan to apply exactly it later'],
      ['reconcile plan hosts/db1.yaml --facts db1.json --format markdown', 'in CI, from facts recorded on the host, as a pull-request comment'],
    ],
    exit: 'exit 0 in sync · 2 changes pending · 1 error',
  },
  apply: {
    about: 'make the host match the spec, then prove it',
    usage: ['SPEC|PLANFILE [--root DIR] [--yes] [--allow-destructive] [--format text|json] [--target ADDRESS]... [--lock-timeout DURATION] [--no-rollout --reason TEXT]'],
    description: `Takes the host lock, observes the host again, runs the steps in order (each re-checks the host
before it acts), then observes once more and fails unless the host matches the spec.
Progress goes to stderr: a live line per step on a terminal, else one line per step as it starts
and ends. With --format json, stdout is a stream of JSON events, one per line
(schemas/apply-events.schema.json), ending with "apply_done".
In a fleet, a plan whose risk reaches a rollout group's gate first takes a slot in that group
(fleet.yaml); a host with after: waits for those hosts' pending changes first.`,
    args: [['PLANFILE', 'a plan saved by `plan --out`: refused, naming the resources, if the host changed since']],
    options: {
      root,
      yes: { type: 'boolean', short: 'y', help: 'do not ask for confirmation (needed when stdin is not a terminal)' },
      'allow-destructive': { type: 'boolean', help: 'allow changes whose risk is destructive' },
      format: { type: 'string', value: 'FORMAT', choices: ['text', 'json'], help: 'text (default) or json: one event per line as the apply runs' },
      target: { type: 'string', multiple: true, value: 'ADDRESS', help: 'only this resource\'s changes (repeatable); a saved plan keeps the targets it was made with' },
      'lock-timeout': lockTimeout,
      'no-rollout': { type: 'boolean', help: "take no rollout slot in the host's fleet groups; needs --reason (recorded with who and why)" },
      reason: { type: 'string', value: 'TEXT', help: 'why --no-rollout (recorded in the journal and the fleet event stream)' },
    },
    examples: [
      ['reconcile apply hosts/db1.yaml', 'show the plan, ask, then apply it'],
      ['reconcile apply db1.plan --lock-timeout 30s', 'apply a saved plan; give up after 30s if another apply holds the lock'],
      ['reconcile apply hosts/db1.yaml --yes --format json > events.jsonl', 'unattended, one JSON event per line'],
    ],
    exit: 'exit 0 converged · 2 deferred (no rollout slot within rollout.wait) · 1 error (the report says what ran, what failed and what did not run)',
  },
  doctor: {
    about: 'diagnose the host: disk IO, stale mounts, stuck processes, failed units',
    usage: ['[--root DIR] [--spec SPEC] [--format text|json] [--interval 1s] [--probe-deadline 2s]'],
    description: `Diagnoses the host: disk IO per device and per process over an interval (what sar -d and iotop
show), mounts that do not answer a stat within a deadline (probed in a child process), processes
stuck in the kernel (D state, with their wait channel), failed systemd units, and reconcile's own
state under --root (the last apply, who holds the apply lock). With --spec: the time zone against
the spec's, and the PostgreSQL role, streaming state and lag against the spec's role.`,
    options: {
      root: { type: 'string', value: 'DIR', file: true, help: "DIR is the host's / for reconcile's own state" },
      spec: { type: 'string', value: 'SPEC', file: true, help: "compare the time zone and the PostgreSQL role with the spec's" },
      format: { type: 'string', value: 'FORMAT', choices: ['text', 'json'], help: 'text (default) or json (versioned)' },
      interval: { type: 'string', value: 'DURATION', help: 'how long to measure disk IO (default 1s)' },
      'probe-deadline': { type: 'string', value: 'DURATION', help: 'how long a mount may take to answer a stat (default 2s)' },
    },
    examples: [
      ['reconcile doctor', 'what is wrong with this host now'],
      ['reconcile doctor --spec hosts/db1.yaml --format json', 'also against the spec, as JSON'],
    ],
    exit: 'exit 0 healthy · 2 something needs attention · 1 error',
  },
  db: {
    about: "db inspect SPEC [NAME]: tables and columns of a migrations entry's database",
    usage: ['inspect SPEC [NAME] [--format text|json]'],
    description: `Prints the tables and columns (name, type, length, precision and scale, key, nullable, default,
auto-increment, comment) of the database of the spec's migrations entry NAME (optional when there
is only one), PostgreSQL or MySQL/MariaDB alike, read from information_schema (and pg_catalog):
the schema a migration leaves, for a reviewer.`,
    subcommands: ['inspect'],
    options: {
      format: { type: 'string', value: 'FORMAT', choices: ['text', 'json'], help: 'text (an aligned table, default) or json (formatVersion 1, stable)' },
    },
    examples: [['reconcile db inspect hosts/app1.yaml app', 'the tables the migrations entry "app" left']],
    exit: 'exit 0 · 1 error',
  },
  drift: {
    about: 'report drift from the spec, once or --every DURATION (exit 0 none, 2 drift)',
    usage: ['SPEC [--root DIR] [--format text|json|prom] [--report FILE] [--every DURATION]', 'SPEC --install-timer --every DURATION|hourly|daily|weekly [--format F] [--report FILE] [--spec-at PATH] [--out FILE | --print]'],
    description: `A read-only plan that reports drift: what differs between the spec and the host. It takes no lock
and changes nothing. Changes the spec acknowledges (ignoreDrift, until a date) are listed as
acknowledged and not counted; after the date they are drift again.`,
    options: {
      root,
      format: { type: 'string', value: 'FORMAT', choices: ['text', 'json', 'prom'], help: "text (default), json (versioned) or prom (Prometheus text format, for node_exporter's textfile collector)" },
      report: { type: 'string', value: 'FILE', file: true, help: 'also write the report to FILE, atomically (readers never see half a file)' },
      every: { type: 'string', value: 'DURATION', help: 'keep checking (e.g. 30s, 15m): one check at a time, a little jitter; SIGTERM/SIGINT finish the running check and exit 0; a failed check is reported and the loop goes on' },
      'install-timer': {
        type: 'boolean',
        help: "write reconcile-drift.service and .timer (running `reconcile drift SPEC` every DURATION, with the --format and --report given) as a units fragment beside the spec (SPEC's name + .drift-timer.yaml); the spec is not touched: include the fragment in it and apply. A duration runs that long after the last check; hourly, daily and weekly are calendar periods, caught up after downtime",
      },
      'spec-at': { type: 'string', value: 'PATH', help: "with --install-timer: the spec's path on the hosts that run the timer (default: SPEC, made absolute; required when SPEC is in a git repository)" },
      out: { type: 'string', value: 'FILE', file: true, help: 'with --install-timer: write the fragment to FILE instead' },
      print: { type: 'boolean', help: 'with --install-timer: print the fragment instead of writing it' },
    },
    examples: [
      ['reconcile drift hosts/db1.yaml', 'does the host still match its spec? exit 2 when not'],
      ['reconcile drift hosts/db1.yaml --every 15m --format prom --report /var/lib/node_exporter/reconcile.prom', 'a metrics file for Prometheus, refreshed every 15 minutes'],
      ['reconcile drift hosts/db1.yaml --install-timer --every daily --spec-at /etc/reconcile/db1.yaml', 'a daily drift check as a units fragment to include in the spec'],
    ],
    exit: 'exit 0 no drift · 2 drift · 1 error (with --every: 0 once stopped by a signal)',
  },
  facts: {
    about: 'record what plan observes, for plan --facts on another machine',
    usage: ['[SPEC...] [--root DIR] > snapshot.json'],
    description: `Observes the host as \`reconcile plan SPEC\` does and prints every answer the host gave (files read,
commands run, the mount table) as JSON, so \`reconcile plan SPEC --facts snapshot.json\` on another
machine (CI) makes the plan this host would. Nothing on the host is changed.`,
    args: [['SPEC...', 'the specs to observe for (a plan of a spec needing reads not recorded here fails, naming them); without one, only what every kind reads for an empty spec']],
    options: { root: { type: 'string', value: 'DIR', file: true, help: "DIR is the host's /" } },
    notes: `The snapshot holds the bytes of every file the planner read (credentials files included): keep it
as private as the host's /etc.`,
    examples: [['reconcile facts hosts/db1.yaml > db1.json', 'on the host; then in CI: reconcile plan hosts/db1.yaml --facts db1.json']],
    exit: 'exit 0 recorded · 1 error',
  },
  review: {
    about: 'risk of the spec changes since a git ref (exit 2 when risky)',
    usage: ['--base REF [SPEC...] [--format text|json|markdown] [--limit SEL]...'],
    description: `Compares the specs at the git commit REF with the working tree, without touching any host: each
resource added, removed or changed, with the risk its change carries (reload, restart, disruptive,
destructive), plus validation and the security lint of the new version. Inside a fleet (fleet.yaml
above): the whole fleet, read at REF and in the working tree: every host a change reaches (a file
it includes, its inventory entry or group, a {fleet: group:G} reference, its findings, its
migration files), the checks between hosts at both commits, unsafe transitions, migration files.`,
    args: [['SPEC...', 'the specs to review; default: every host spec changed since REF under this directory (in a fleet: the fleet)']],
    options: {
      base: { type: 'string', value: 'REF', help: 'the commit to compare with (e.g. origin/main, HEAD~1)' },
      format: { type: 'string', value: 'FORMAT', choices: ['text', 'json', 'markdown'], help: 'text (default), json (versioned) or markdown (for a pull-request comment)' },
      limit: { type: 'string', multiple: true, value: 'SEL', help: 'in a fleet: report only these hosts (web*, group:web, !web3, &group:dc1; comma-separated or repeated); every host is still merged and checked between hosts' },
    },
    examples: [
      ['reconcile review --base origin/main --format markdown', 'the risk of a pull request, as a comment'],
      ['reconcile review --base HEAD~1 --limit group:web', 'in a fleet: what the last commit does to the hosts of group web'],
    ],
    exit: 'exit 0 nothing risky · 2 a change with risk restart or worse, or an unsafe transition · 1 error (an invalid spec included; in a fleet, a new error finding at the working tree)',
  },
  spec: {
    about: "a host's spec with its fragments merged, each entry with its origin",
    usage: ['HOST|SPEC [--format yaml|json]', '--limit SEL [--format yaml|json]'],
    description: `Prints the host's spec with its fragments merged (DESIGN §8.2): its groups' includes, its own
includes, then the file itself. YAML carries "# FILE:LINE" beside each entry and beside each
field another file said ("overrides FILE:LINE" when it replaced a value); --format json carries
"origins" (address or address.field -> FILE:LINE) and "sources". HOST is a host of the fleet
around the working directory (fleet.yaml at the repository root).`,
    options: {
      format: { type: 'string', value: 'FORMAT', choices: ['yaml', 'json'], help: 'yaml (default, with origins as comments) or json' },
      limit: { type: 'string', multiple: true, value: 'SEL', help: 'every selected host of that fleet (web*, group:web, !web3, &group:dc1; comma-separated or repeated): YAML documents one after another, or JSON {formatVersion, hosts}' },
    },
    examples: [['reconcile spec web1', 'what web1 gets from its groups, its includes and its own file']],
    exit: 'exit 0 · 1 error (FILE:LINE:COL: message)',
  },
  show: {
    about: 'print a plan saved by plan --out, as plan printed it',
    usage: ['PLANFILE [--format text|json|markdown]'],
    description: `Prints a plan saved by \`reconcile plan SPEC --out PLANFILE\`, exactly as plan printed it in that
format. Reads only the file: the host is not observed (apply PLANFILE checks it is still current).`,
    options: { format: { type: 'string', value: 'FORMAT', choices: ['text', 'json', 'markdown'], help: 'text (default), json (versioned, stable) or markdown (for a pull-request comment)' } },
    examples: [['reconcile plan hosts/web1.yaml --out web1.plan && reconcile show web1.plan --format markdown', 'save a plan, then print it for a pull request']],
    exit: 'exit 0 the plan is in sync · 2 it holds changes · 1 error',
  },
  rollback: {
    about: 'put back the files the last apply changed, as a plan first, then an apply',
    usage: ['[JOURNAL] [--root DIR] [--plan] [--yes] [--format text|json] [--list]'],
    description: `Puts back the bytes, mode and owner every file had before the last apply (or the apply of the
named JOURNAL), from the copies the journal kept. Shows the rollback as a plan first, then applies
it under the host lock after confirmation; the rollback keeps a journal of its own. What a journal
cannot undo (a restart, a mount, a migration, a file holding a secret) is listed, not pretended.
The spec still says what it said: the next apply or drift check will want the changes again.`,
    args: [['JOURNAL', 'a directory name under var/lib/reconcile/journal/ (default: the newest)']],
    options: {
      list: { type: 'boolean', help: 'list the journals, oldest first' },
      plan: { type: 'boolean', help: 'show the rollback and stop (exit 0 nothing to undo, 2 changes)' },
      root: { type: 'string', value: 'DIR', file: true, help: "DIR is the host's /" },
      yes: { type: 'boolean', short: 'y', help: 'do not ask for confirmation' },
      format: { type: 'string', value: 'FORMAT', choices: ['text', 'json'], help: 'text (default) or json (versioned)' },
    },
    examples: [['reconcile rollback --plan && reconcile rollback --yes', 'see what the last apply would be undone to, then undo it']],
    exit: 'exit 0 rolled back or nothing to do · 2 changes pending (--plan) · 1 error',
  },
  pull: {
    about: "fetch a git repo, plan or --apply this host's spec at a ref",
    usage: [
      'REPO [--ref main] [--path hosts/{hostname}.yaml] [--root DIR] [--host NAME] [--apply] [--every DURATION] [--allow-rewind] [--allow-destructive] [--format text|json] [--verify-signatures [--allowed-signers FILE]] [--lock-timeout DURATION]',
      'REPO --install-timer [--every 15m] [--verify-signatures --allowed-signers FILE] [--env NAME]... [--credential ID=PATH]... [--ref …] [--path …] [--host …]',
      '--disable REASON | --enable',
    ],
    description: `Clones or fetches REPO (a path or any URL git accepts) into a cache under var/lib/reconcile/pull,
checks out REF detached and plans this host's spec, or applies it with --apply (no confirmation:
--yes is implied). A REF that is not a fast-forward of the last commit pull applied is refused.
A fleet host's apply that gets no rollout slot within rollout.wait exits 2 (deferred): the timer's
unit counts that as success and runs again.`,
    options: {
      ref: { type: 'string', value: 'REF', help: 'branch, tag or commit (default main)' },
      path: { type: 'string', value: 'TEMPLATE', help: "the spec in the repository; {hostname} is this host's name (default hosts/{hostname}.yaml)" },
      root: { type: 'string', value: 'DIR', file: true, help: "DIR is the host's /: the cache, state and every managed file live under it" },
      host: { type: 'string', value: 'NAME', help: "the name for {hostname} (default: this machine's hostname)" },
      apply: { type: 'boolean', help: 'apply the spec; the commit is recorded in var/lib/reconcile/pull-state.json' },
      'allow-rewind': { type: 'boolean', help: 'accept a REF that does not descend from the last applied commit' },
      'allow-destructive': { type: 'boolean', help: 'allow changes whose risk is destructive (with --apply)' },
      format: { type: 'string', value: 'FORMAT', choices: ['text', 'json'], help: 'text (default) or json (versioned)' },
      'verify-signatures': { type: 'boolean', help: 'refuse a commit without a good SSH signature by a key of the allowed signers' },
      'allowed-signers': { type: 'string', value: 'FILE', file: true, help: 'who may sign (ssh-keygen ALLOWED SIGNERS format; default /etc/reconcile/allowed_signers); never a file of the repository' },
      'install-timer': { type: 'boolean', help: 'write and enable reconcile-pull.service and .timer (through the units kind) that run `reconcile pull REPO --apply` with these --ref, --path, --host and signature flags; --allowed-signers FILE is copied to /etc/reconcile/allowed_signers' },
      every: { type: 'string', value: 'DURATION', help: 'with --install-timer: how often (default 15m, at most 168h; or hourly, daily, weekly); a third of it is random delay. Without it: how often this run recurs (the timer passes its own), reported in the fleet status so a host is stale only after 2 × DURATION + 5 min; it starts no loop' },
      env: { type: 'string', multiple: true, value: 'NAME', help: "with --install-timer: a secret the pull needs ({env: NAME} in the spec): its value, from this command's environment, goes to /etc/reconcile/pull.env (0600), read by the unit's EnvironmentFile=; never into the unit. Repeatable" },
      credential: { type: 'string', multiple: true, value: 'ID=PATH', file: true, help: 'with --install-timer: the file PATH reaches the unit by LoadCredential=; the spec reads it as {file: /run/credentials/reconcile-pull.service/ID}. Repeatable' },
      disable: { type: 'string', value: 'REASON', help: 'stop this host\'s pulls (a local flag under var/lib/reconcile) until --enable; a disabled pull reports "disabled: REASON", exits 0 and applies nothing' },
      enable: { type: 'boolean', help: 'undo --disable' },
      'lock-timeout': { ...lockTimeout, help: `for the pull lock and, with --apply, the host lock: ${lockTimeout.help}` },
    },
    examples: [
      ['reconcile pull https://git.example.com/fleet.git --apply', "apply this host's spec at the tip of main"],
      ['reconcile pull https://git.example.com/fleet.git --install-timer --every 15m --verify-signatures --allowed-signers ./signers --env FLEET_REDIS_URL', 'this host pulls and applies its own spec every 15 minutes, signed commits only'],
      ["reconcile pull --disable 'disk replacement, ticket 4711'", "stop this host's pulls until --enable"],
    ],
    exit: 'exit: plan 0 in sync · 2 changes pending · 1 error (a refused commit too); --apply 0 converged · 2 deferred (no rollout slot) · 1 error',
  },
  fleet: {
    about: 'the fleet at run time, from its Redis: status, pause|resume|release rollouts, unblock, forget',
    usage: [
      'status [--group G] [--limit SEL]... [--format text|json|prom]',
      'pause|resume|release GROUP|HOST... --reason TEXT [--fleet DIR]',
      'unblock|forget HOST --reason TEXT',
    ],
    description: `The fleet around the current directory (fleet.yaml), through its Redis (DESIGN §8.4, §8.5).
status: every host's last report judged against the repository's HEAD: failed, blocked, stale
(silent for more than 2 × its interval + 5 min), never reported, not in the fleet, duplicate
identity, unacknowledged drift, behind (its merged spec at HEAD is not the one it last converged
on), below minVersion. pause|resume|release: human control of rollout slots (resume also lifts a
halt). unblock: let a host blocked by after: go once. forget: a decommissioned host's status.
Every control is recorded on the fleet's event stream with who, why and when.`,
    subcommands: ['status', 'pause', 'resume', 'release', 'unblock', 'forget'],
    options: {
      group: { type: 'string', value: 'G', help: 'status: only the hosts of group G' },
      limit: { type: 'string', multiple: true, value: 'SEL', help: 'status: only these hosts (web*, group:web, !web3, &group:dc1; comma-separated or repeated)' },
      format: { type: 'string', value: 'FORMAT', choices: ['text', 'json', 'prom'], help: "status: text (default), json (versioned) or prom (node_exporter's textfile collector)" },
      reason: { type: 'string', value: 'TEXT', help: 'pause, resume, release, unblock, forget: why (required; recorded with who and when)' },
      fleet: { type: 'string', value: 'DIR', file: true, help: 'the fleet around DIR (default: the current directory)' },
    },
    examples: [
      ['reconcile fleet status --group web', 'what needs attention in group web; exit 2 when something does'],
      ['reconcile fleet status --format prom > /var/lib/node_exporter/fleet.prom', 'metrics for Prometheus'],
      ["reconcile fleet pause web --reason 'incident 4711'", 'grant no rollout slot in group web until fleet resume'],
    ],
    exit: 'exit 0 ok · 2 attention (status) · 1 error',
  },
  help: {
    about: 'help COMMAND: the help of one command',
    usage: ['[COMMAND]'],
    description: 'Prints the help of COMMAND (the same as reconcile COMMAND --help), or the list of commands.',
    options: {},
    examples: [['reconcile help apply', 'the options and examples of apply']],
    exit: 'exit 0 · 1 unknown command',
  },
  completion: {
    about: 'completion bash: print the bash completion script',
    usage: ['bash'],
    description: `Prints a bash completion script for reconcile's commands, options and their values (the file
completion/reconcile.bash of the package holds the same).`,
    subcommands: ['bash'],
    options: {},
    examples: [['source <(reconcile completion bash)', 'complete reconcile in this shell']],
    exit: 'exit 0 · 1 unknown shell',
  },
} as const satisfies Record<string, CommandDef>;

export type CommandName = keyof typeof COMMANDS;
