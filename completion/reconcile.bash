# bash completion for reconcile; generated from src/cli/definitions.ts (npm run docs): do not edit
_reconcile() {
  local cur prev cmd flags subs
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W 'validate plan apply doctor db drift facts review spec show rollback pull fleet help completion' -- "$cur"))
    return
  fi
  cmd="${COMP_WORDS[1]}"
  case "$cmd:$prev" in
    validate:--root) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    validate:--limit) COMPREPLY=(); return ;;
    plan:--root) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    plan:--format) COMPREPLY=($(compgen -W 'text json markdown' -- "$cur")); return ;;
    plan:--facts) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    plan:--out) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    plan:--limit) COMPREPLY=(); return ;;
    plan:--target) COMPREPLY=(); return ;;
    apply:--root) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    apply:--format) COMPREPLY=($(compgen -W 'text json' -- "$cur")); return ;;
    apply:--target) COMPREPLY=(); return ;;
    apply:--lock-timeout) COMPREPLY=(); return ;;
    apply:--reason) COMPREPLY=(); return ;;
    doctor:--root) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    doctor:--spec) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    doctor:--format) COMPREPLY=($(compgen -W 'text json' -- "$cur")); return ;;
    doctor:--interval) COMPREPLY=(); return ;;
    doctor:--probe-deadline) COMPREPLY=(); return ;;
    db:--format) COMPREPLY=($(compgen -W 'text json' -- "$cur")); return ;;
    drift:--root) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    drift:--format) COMPREPLY=($(compgen -W 'text json prom' -- "$cur")); return ;;
    drift:--report) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    drift:--every) COMPREPLY=(); return ;;
    drift:--spec-at) COMPREPLY=(); return ;;
    drift:--out) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    facts:--root) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    review:--base) COMPREPLY=(); return ;;
    review:--format) COMPREPLY=($(compgen -W 'text json markdown' -- "$cur")); return ;;
    review:--limit) COMPREPLY=(); return ;;
    spec:--format) COMPREPLY=($(compgen -W 'yaml json' -- "$cur")); return ;;
    spec:--limit) COMPREPLY=(); return ;;
    show:--format) COMPREPLY=($(compgen -W 'text json markdown' -- "$cur")); return ;;
    rollback:--root) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    rollback:--format) COMPREPLY=($(compgen -W 'text json' -- "$cur")); return ;;
    pull:--ref) COMPREPLY=(); return ;;
    pull:--path) COMPREPLY=(); return ;;
    pull:--root) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    pull:--host) COMPREPLY=(); return ;;
    pull:--format) COMPREPLY=($(compgen -W 'text json' -- "$cur")); return ;;
    pull:--allowed-signers) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    pull:--every) COMPREPLY=(); return ;;
    pull:--env) COMPREPLY=(); return ;;
    pull:--credential) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    pull:--disable) COMPREPLY=(); return ;;
    pull:--lock-timeout) COMPREPLY=(); return ;;
    fleet:--group) COMPREPLY=(); return ;;
    fleet:--limit) COMPREPLY=(); return ;;
    fleet:--format) COMPREPLY=($(compgen -W 'text json prom' -- "$cur")); return ;;
    fleet:--reason) COMPREPLY=(); return ;;
    fleet:--fleet) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  case "$cmd" in
    validate) flags='--root --strict --fleet --limit --help --no-color --quiet --verbose'; subs='' ;;
    plan) flags='--root --format --facts --out --strict --fleet --limit --target --help --no-color --quiet --verbose'; subs='' ;;
    apply) flags='--root --yes --allow-destructive --format --target --lock-timeout --no-rollout --reason --help --no-color --quiet --verbose'; subs='' ;;
    doctor) flags='--root --spec --format --interval --probe-deadline --help --no-color --quiet --verbose'; subs='' ;;
    db) flags='--format --help --no-color --quiet --verbose'; subs='inspect' ;;
    drift) flags='--root --format --report --every --install-timer --spec-at --out --print --help --no-color --quiet --verbose'; subs='' ;;
    facts) flags='--root --help --no-color --quiet --verbose'; subs='' ;;
    review) flags='--base --format --limit --help --no-color --quiet --verbose'; subs='' ;;
    spec) flags='--format --limit --help --no-color --quiet --verbose'; subs='' ;;
    show) flags='--format --help --no-color --quiet --verbose'; subs='' ;;
    rollback) flags='--list --plan --root --yes --format --help --no-color --quiet --verbose'; subs='' ;;
    pull) flags='--ref --path --root --host --apply --allow-rewind --allow-destructive --format --verify-signatures --allowed-signers --install-timer --every --env --credential --disable --enable --lock-timeout --help --no-color --quiet --verbose'; subs='' ;;
    fleet) flags='--group --limit --format --reason --fleet --help --no-color --quiet --verbose'; subs='status pause resume release unblock forget' ;;
    help) flags='--help --no-color --quiet --verbose'; subs='validate plan apply doctor db drift facts review spec show rollback pull fleet help completion' ;;
    completion) flags='--help --no-color --quiet --verbose'; subs='bash' ;;
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
