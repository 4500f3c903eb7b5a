import { plaintextSecretsInCommand, SECRET_NAME } from '../../spec/secrets.js';
/**
 * A small reader of systemd unit files (systemd.syntax(7)): sections, `Key=value` with
 * backslash continuations, `#`/`;` comments, and an empty assignment resetting a list.
 */
export interface UnitLine {
  section: string;
  key: string;
  value: string;
  /** 1-based line of the assignment in the file. */
  line: number;
}

export function parseUnitFile(text: string): UnitLine[] {
  const out: UnitLine[] = [];
  const lines = text.split('\n');
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!.replace(/\r$/, '');
    while (line.endsWith('\\') && i + 1 < lines.length) {
      i++;
      const next = lines[i]!.replace(/\r$/, '');
      // Comment lines inside a continuation are skipped, as systemd does.
      if (/^\s*[#;]/.test(next)) continue;
      line = `${line.slice(0, -1)} ${next}`;
    }
    const t = line.trim();
    if (!t || t.startsWith('#') || t.startsWith(';')) continue;
    if (t.startsWith('[') && t.endsWith(']')) {
      section = t.slice(1, -1);
      continue;
    }
    const eq = t.indexOf('=');
    if (eq <= 0) continue;
    out.push({ section, key: t.slice(0, eq).trim(), value: t.slice(eq + 1).trim(), line: start + 1 });
  }
  return out;
}

/** The [Install] section: what `systemctl enable` reads. */
export interface InstallInfo {
  wantedBy: string[];
  requiredBy: string[];
  upheldBy: string[];
  alias: string[];
  also: string[];
  defaultInstance: string | null;
}

export function emptyInstall(): InstallInfo {
  return { wantedBy: [], requiredBy: [], upheldBy: [], alias: [], also: [], defaultInstance: null };
}

export function parseInstall(text: string): InstallInfo {
  const info = emptyInstall();
  const lists: Record<string, keyof Omit<InstallInfo, 'defaultInstance'>> = { WantedBy: 'wantedBy', RequiredBy: 'requiredBy', UpheldBy: 'upheldBy', Alias: 'alias', Also: 'also' };
  for (const l of parseUnitFile(text)) {
    if (l.section !== 'Install') continue;
    if (l.key === 'DefaultInstance') info.defaultInstance = l.value || null;
    const list = lists[l.key];
    if (!list) continue;
    if (l.value === '') info[list] = [];
    else for (const v of l.value.split(/\s+/)) if (!info[list].includes(v)) info[list].push(v);
  }
  return info;
}

export function hasInstall(i: InstallInfo): boolean {
  return i.wantedBy.length + i.requiredBy.length + i.upheldBy.length + i.alias.length + i.also.length > 0;
}

const EXEC_KEYS = new Set(['ExecStart', 'ExecStartPre', 'ExecStartPost', 'ExecCondition', 'ExecReload', 'ExecStop', 'ExecStopPost']);

/**
 * Exec*= commands whose program systemd refuses to load ("Neither a valid executable name nor an
 * absolute path"): a relative path such as `bin/foo` or `./foo`, `.`, `..`, or nothing. An absolute
 * path, one that starts with a specifier (`%h/bin/x`), and a bare file name are accepted, as by
 * systemd >= 239, which searches a bare name in its fixed path (systemd.service(5), "Command
 * lines"; Debian's own units use `ExecStart=systemctl ...`); whether that name resolves on the host
 * is for `systemd-analyze verify` ("Command x is not executable").
 */
export function relativeExecs(text: string): { line: number; key: string; program: string }[] {
  const out: { line: number; key: string; program: string }[] = [];
  for (const l of parseUnitFile(text)) {
    if (!EXEC_KEYS.has(l.key) || l.value === '') continue;
    // Prefixes: @ (argv0), - (ignore failure), : (no env expansion), + ! !! (privileges), | (shell, v258).
    const rest = l.value.replace(/^[@\-:+!|]+/, '');
    const m = /^"([^"]*)"|^'([^']*)'|^(\S+)/.exec(rest);
    const program = m ? (m[1] ?? m[2] ?? m[3] ?? '') : '';
    const absolute = program.startsWith('/') || /^%[a-zA-Z]\//.test(program);
    const fileName = program !== '' && program !== '.' && program !== '..' && !program.includes('/') && Buffer.byteLength(program) <= 255;
    if (!absolute && !fileName) out.push({ line: l.line, key: l.key, program });
  }
  return out;
}

/**
 * Environment= assignments whose name says secret (PASSWORD, TOKEN, ...): a unit file is world
 * readable and `systemctl show` prints it to anyone, so the value belongs in an
 * EnvironmentFile= of mode 0600 or a LoadCredential=.
 */
export function secretEnvironment(text: string): { line: number; name: string }[] {
  const out: { line: number; name: string }[] = [];
  for (const l of parseUnitFile(text)) {
    if (l.key !== 'Environment') continue;
    for (const m of l.value.matchAll(/(?:^|\s|")([A-Za-z_][A-Za-z0-9_]*)=/g)) {
      const name = m[1]!;
      if (SECRET_NAME.test(name)) out.push({ line: l.line, name });
    }
  }
  return out;
}

/**
 * Exec*= lines that pass a secret on the command line (`--password x`, `PGPASSWORD=x` through
 * env, a URL with a password): argv is readable by every user in /proc and `systemctl show`
 * prints it. What is found is named, never quoted.
 */
export function secretArguments(text: string): { line: number; key: string; names: string[] }[] {
  const out: { line: number; key: string; names: string[] }[] = [];
  for (const l of parseUnitFile(text)) {
    if (!/^Exec[A-Za-z]*$/.test(l.key)) continue;
    const names = plaintextSecretsInCommand(l.value);
    if (names.length) out.push({ line: l.line, key: l.key, names });
  }
  return out;
}

/** Expands the specifiers an [Install] value may use (%n %N %p %i %%) for unit `name`. */
export function expandSpecifiers(value: string, name: string): string {
  const dot = name.lastIndexOf('.');
  const stem = dot === -1 ? name : name.slice(0, dot);
  const at = stem.indexOf('@');
  const prefix = at === -1 ? stem : stem.slice(0, at);
  const instance = at === -1 ? '' : stem.slice(at + 1);
  return value.replace(/%([nNpi%])/g, (_, c: string) => ({ n: name, N: stem, p: prefix, i: instance, '%': '%' })[c]!);
}
