import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Diagnostic } from '../../errors.js';
import { diagnosticAt, type LoadedSpec } from '../../spec/load.js';
import { childEnv } from '../../spec/secrets.js';
import type { UnitSpec } from '../../spec/types.js';
import { isTemplate } from './paths.js';
import { relativeExecs, secretArguments, secretEnvironment } from './unitfile.js';
import { badInstallNames } from './install-names.js';

export interface VerifyFinding {
  /** 'unit' for the unit file, else the drop-in's file name. */
  file: string;
  /** Line in that file; null for a finding about the whole unit. */
  line: number | null;
  message: string;
  severity: 'error' | 'warning';
}

const SUMMARY = /Unit configuration has fatal error|has a bad unit file setting|failed to load properly/;

/**
 * What `systemd-analyze verify DIR/NAME` printed, as findings of the unit file or one of its
 * drop-ins (written under DIR/NAME.d/). Notices that systemd ignores a line are warnings; so is a
 * missing program, which may be absent where the spec is checked and present on the host.
 */
export function parseVerifyOutput(output: string, exitCode: number, dir: string, name: string): VerifyFinding[] {
  const found: VerifyFinding[] = [];
  const summaries: string[] = [];
  for (const raw of output.split('\n')) {
    const text = raw.trim();
    if (!text) continue;
    const m = /^(\/\S+?):(\d+): (.*)$/.exec(text);
    if (m && m[1]!.startsWith(dir + '/')) {
      const rel = m[1]!.slice(dir.length + 1);
      const file = rel === name ? 'unit' : rel.startsWith(`${name}.d/`) ? rel.slice(name.length + 3) : null;
      if (file === null) continue; // another unit's file: reported under that unit
      found.push({ file, line: Number(m[2]), message: m[3]!, severity: /ignoring\.?$/i.test(m[3]!) ? 'warning' : 'error' });
    } else if (SUMMARY.test(text)) {
      summaries.push(text);
    } else {
      const message = text.replace(new RegExp(`^${escape(name)}: `), '');
      const severity = exitCode === 0 || /is not executable: No such file or directory|ignoring\.?$/i.test(text) ? 'warning' : 'error';
      found.push({ file: 'unit', line: null, message, severity });
    }
  }
  if (exitCode !== 0 && summaries.length && !found.some((f) => f.severity === 'error')) {
    found.push({ file: 'unit', line: null, message: summaries.join('; '), severity: 'error' });
  }
  return found;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether `systemd-analyze verify` can be used here; checked once per process. */
let analyzeUsable: boolean | undefined;

/**
 * Runs ONE `systemd-analyze verify` over every unit whose content the spec gives, written with
 * their drop-ins to one scratch directory (siblings see each other: a timer names its service).
 * Not a host file: validation runs before any Host exists, and synchronously, so this is the one
 * place that spawns directly; argv only, never a shell. Null when systemd-analyze is missing.
 */
export function runVerifyAll(units: { name: string; content: string; dropins: Record<string, string> }[]): Map<string, VerifyFinding[]> | null {
  if (analyzeUsable === false || units.length === 0) return units.length === 0 ? new Map() : null;
  // The verdict is a function of the files written: the same set of units (a fleet's hosts of one
  // group) is verified once per process. The whole set is the key, since siblings see each other.
  const key = JSON.stringify(units.map((u) => [u.name, u.content, Object.entries(u.dropins).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]));
  const known = verdicts.get(key);
  if (known) return known;
  const found = verifyInScratch(units);
  if (found) verdicts.set(key, found);
  return found;
}

const verdicts = new Map<string, Map<string, VerifyFinding[]>>();

function verifyInScratch(units: { name: string; content: string; dropins: Record<string, string> }[]): Map<string, VerifyFinding[]> | null {
  const dir = mkdtempSync(path.join(tmpdir(), 'reconcile-verify-'));
  try {
    for (const u of units) {
      writeFileSync(path.join(dir, u.name), u.content);
      if (Object.keys(u.dropins).length) {
        mkdirSync(path.join(dir, `${u.name}.d`));
        for (const [file, text] of Object.entries(u.dropins)) writeFileSync(path.join(dir, `${u.name}.d`, file), text);
      }
    }
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', '--recursive-errors=no', ...units.map((u) => path.join(dir, u.name))], {
      encoding: 'utf8',
      timeout: 60_000,
      maxBuffer: 64 << 20,
      env: childEnv({ SYSTEMD_LOG_COLOR: '0', SYSTEMD_PAGER: '', LC_ALL: 'C' }),
    });
    if (r.error || /unrecognized option|Unknown command verb/.test(r.stderr ?? '')) {
      analyzeUsable = false;
      return null;
    }
    analyzeUsable = true;
    return splitVerifyOutput(`${r.stderr ?? ''}\n${r.stdout ?? ''}`, dir, units.map((u) => u.name));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The findings of one verify run over many units, per unit: a line belongs to the unit whose
 * file (or drop-in) it names, or whose name it starts with; a unit failed when a summary line
 * names it, whatever the exit code of the whole run says.
 */
export function splitVerifyOutput(output: string, dir: string, names: string[]): Map<string, VerifyFinding[]> {
  const lines = output.split('\n');
  const out = new Map<string, VerifyFinding[]>();
  for (const name of names) {
    const n = escape(name);
    const mine = new RegExp(`^(${escape(dir)}/${n}(\\.d/\\S+)?:\\d+: |${n}: |Unit ${n} )`);
    const own = lines.filter((l) => mine.test(l.trim()));
    if (own.length === 0) continue;
    const failed = own.some((l) => SUMMARY.test(l));
    out.set(name, parseVerifyOutput(own.join('\n'), failed ? 1 : 0, dir, name));
  }
  return out;
}

/**
 * Semantic checks of `units:` (called from src/resources/check.ts): names once each, settings that
 * contradict each other, Exec*= programs that systemd refuses (relative paths), and `systemd-analyze verify` of
 * every unit whose content the spec gives. Findings point at the `content` key (or the drop-in's
 * key) and name the unit file's own line.
 */
export function unitDiagnostics(spec: LoadedSpec, options: { verify?: boolean } = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const units = spec.value.units ?? [];
  const seen = new Map<string, number>();
  const reporters = new Map<string, (key: string[], where: string, message: string, severity?: 'error' | 'warning') => void>();
  const toVerify: { name: string; content: string; dropins: Record<string, string> }[] = [];
  units.forEach((u: UnitSpec, i) => {
    const at = (...rest: (string | number)[]) => ['units', i, ...rest];
    const label = `units[${u.name}]`;
    const first = seen.get(u.name);
    if (first !== undefined) {
      out.push(diagnosticAt(spec, at('name'), `${label}: declared twice (here and at line ${diagnosticAt(spec, ['units', first, 'name'], '').line})`));
      return;
    }
    seen.set(u.name, i);
    if (u.masked && u.content !== undefined) out.push(diagnosticAt(spec, at('masked'), `${label}: masked: true links /etc/systemd/system/${u.name} to /dev/null, where content would be written; give one or the other`));
    if (u.masked && u.enabled) out.push(diagnosticAt(spec, at('masked'), `${label}: a masked unit cannot be enabled`));
    if (u.masked && u.state === 'running') out.push(diagnosticAt(spec, at('masked'), `${label}: a masked unit cannot be running`));
    if (isTemplate(u.name) && (u.state === 'running' || u.state === 'stopped')) {
      out.push(diagnosticAt(spec, at('state'), `${label}: a template is not started or stopped itself; name an instance (e.g. ${u.name.replace('@.', '@NAME.')})`));
    }
    if (u.state === 'absent') return;
    const pointer = (key: string[]) => diagnosticAt(spec, at(...key), '', 'error', { key: true });
    const report = (key: string[], where: string, message: string, severity: 'error' | 'warning' = 'error') => {
      const pos = pointer(key);
      out.push({ ...pos, severity, message: `${label}: ${where}: ${message}` });
    };
    const texts: [string[], string, string][] = [];
    if (u.content !== undefined) texts.push([['content'], 'content', u.content]);
    for (const [file, text] of Object.entries(u.dropins ?? {})) texts.push([['dropins', file], `drop-in ${file}`, text]);
    let relative = false;
    for (const [key, where, text] of texts) {
      for (const e of secretEnvironment(text)) {
        report(key, `${where} line ${e.line}`, `Environment=${e.name}=... writes a secret into a world-readable unit file; use EnvironmentFile= (mode 0600) or LoadCredential=`);
      }
      for (const a of secretArguments(text)) {
        report(key, `${where} line ${a.line}`, `${a.key}= passes a plaintext secret (${a.names.join(', ')}) on the command line, readable by every user; put it in an EnvironmentFile= (mode 0600) or LoadCredential= and refer to it ($NAME or %d/NAME)`);
      }
      for (const b of badInstallNames(text)) {
        report(key, `${where} line ${b.line}`, `[Install] ${b.key}=${b.value} ${b.problem}: systemctl enable would create links where it points`);
      }
      for (const r of relativeExecs(text)) {
        relative = true;
        report(key, `${where} line ${r.line}`, `${r.key}= must name its program by absolute path or a bare file name (systemd searches its path for it), not "${r.program}"`);
      }
    }
    // The same mistake would come back from systemd-analyze; say it once.
    if (relative || u.content === undefined || options.verify === false) return;
    toVerify.push({ name: u.name, content: u.content, dropins: u.dropins ?? {} });
    reporters.set(u.name, report);
  });
  const findings = runVerifyAll(toVerify);
  for (const [name, list] of findings ?? []) {
    const report = reporters.get(name)!;
    for (const f of list) {
      const key = f.file === 'unit' ? ['content'] : ['dropins', f.file];
      const where = f.file === 'unit' ? 'content' : `drop-in ${f.file}`;
      report(key, f.line === null ? `systemd-analyze verify` : `${where} line ${f.line}`, f.message, f.severity);
    }
  }
  return out.sort((a, b) => a.line - b.line || a.col - b.col);
}
