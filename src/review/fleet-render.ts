/**
 * The fleet review for people: identical changes aggregated across hosts ("ExecStart changed ->
 * restart on 2,314 hosts of group web; maxParallel 50 -> about 47 waves"), each list capped, so a
 * pull-request comment stays under GitHub's 65,536 characters at any fleet size. JSON carries all.
 * Reads only the FleetReview.
 */
import type { Style } from '../render/style.js';
import { redact } from '../spec/secrets.js';
import { RISKS, type Risk } from '../plan/types.js';
import type { AffectedHost, FleetReview } from './fleet.js';

/** GitHub refuses a comment longer than 65,536 characters; leave room for a wrapper. */
export const MARKDOWN_LIMIT = 60_000;
/** Rows per section; the rest is counted ("and N more"), the JSON lists them all. */
const ROWS = 40;
/** Host names per row. */
const NAMES = 8;

const BADGE: Record<Risk, string> = { none: '⚪ none', reload: '🔵 reload', restart: '🟡 restart', disruptive: '🟠 disruptive', destructive: '🔴 destructive' };
const n = (x: number) => x.toLocaleString('en-US');
const plural = (x: number, one: string, many = `${one}s`) => `${n(x)} ${x === 1 ? one : many}`;

/** "2,314 hosts of group web", "all 3 hosts of group media", "5 hosts (web: 3, db: 2)", "web1, web2". */
export function hostsPhrase(hosts: AffectedHost[], r: FleetReview): string {
  if (hosts.length <= 3) return hosts.map((h) => h.host).join(', ');
  const sizes = new Map(r.groups.map((g) => [g.name, g.size]));
  const counts = new Map<string, number>();
  for (const h of hosts) for (const g of h.groups) counts.set(g, (counts.get(g) ?? 0) + 1);
  const covering = [...counts].filter(([, c]) => c === hosts.length).sort(([a], [b]) => (sizes.get(a) ?? 0) - (sizes.get(b) ?? 0) || a.localeCompare(b));
  if (covering.length) {
    const [g] = covering[0]!;
    return `${sizes.get(g) === hosts.length ? 'all ' : ''}${plural(hosts.length, 'host')} of group ${g}`;
  }
  const top = [...counts].sort(([a, x], [b, y]) => y - x || a.localeCompare(b)).slice(0, 3);
  return `${plural(hosts.length, 'host')}${top.length ? ` (${top.map(([g, c]) => `${g}: ${n(c)}`).join(', ')}${counts.size > 3 ? ', …' : ''})` : ''}`;
}

function names(hosts: string[]): string {
  return hosts.length <= NAMES ? hosts.join(', ') : `${hosts.slice(0, NAMES).join(', ')} and ${n(hosts.length - NAMES)} more`;
}

interface Aggregate {
  address: string;
  change: string;
  risk: Risk;
  why: string;
  hosts: AffectedHost[];
}

/** Identical changes (address, change, risk, reasons) across hosts, worst risk and most hosts first. */
export function aggregateChanges(r: FleetReview): Aggregate[] {
  const by = new Map<string, Aggregate>();
  for (const h of r.affected) {
    for (const c of h.changes) {
      const why = c.reasons.join('; ');
      const key = JSON.stringify([c.address, c.change, c.risk, why]);
      const a = by.get(key) ?? { address: c.address, change: c.change, risk: c.risk, why, hosts: [] };
      a.hosts.push(h);
      by.set(key, a);
    }
  }
  return [...by.values()].sort((a, b) => RISKS.indexOf(b.risk) - RISKS.indexOf(a.risk) || b.hosts.length - a.hosts.length || a.address.localeCompare(b.address));
}

/** Affected hosts by the path and detail that reached them: one row for 2,000 hosts of one fragment. */
function aggregateReasons(r: FleetReview): { path: string; detail: string; hosts: string[] }[] {
  const by = new Map<string, { path: string; detail: string; hosts: string[] }>();
  for (const h of r.affected) {
    for (const why of h.reasons) {
      const key = `${why.path}\u0000${why.detail}`;
      const a = by.get(key) ?? { path: why.path, detail: why.detail, hosts: [] };
      a.hosts.push(h.host);
      by.set(key, a);
    }
  }
  return [...by.values()].sort((a, b) => b.hosts.length - a.hosts.length || a.path.localeCompare(b.path) || a.detail.localeCompare(b.detail));
}

type Mode = 'markdown' | 'text';

class Doc {
  lines: string[] = [];
  constructor(
    private mode: Mode,
    private style: Style,
  ) {}
  code = (s: string) => (this.mode === 'markdown' ? `\`${s.replace(/`/g, "'")}\`` : s);
  cell = (s: string) => (this.mode === 'markdown' ? s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\n/g, ' ') : s);
  risk = (x: Risk) => (this.mode === 'markdown' ? BADGE[x] : x === 'destructive' || x === 'disruptive' ? this.style.red(x) : x === 'restart' ? this.style.yellow(x) : x);
  heading(s: string) {
    this.lines.push('', this.mode === 'markdown' ? `#### ${s}` : this.style.bold(s), ...(this.mode === 'markdown' ? [''] : []));
  }
  para(s: string) {
    this.lines.push(s);
  }
  bullets(items: string[], total = items.length, more = 'more') {
    const shown = items.slice(0, ROWS);
    for (const x of shown) this.lines.push(this.mode === 'markdown' ? `- ${x}` : `  ${x}`);
    if (total > shown.length) this.lines.push(this.mode === 'markdown' ? `- … and ${n(total - shown.length)} ${more} (--format json lists all)` : `  … and ${n(total - shown.length)} ${more} (--format json lists all)`);
  }
  table(head: string[], rows: string[][], total = rows.length, more = 'more') {
    const shown = rows.slice(0, ROWS);
    if (this.mode === 'markdown') {
      this.lines.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...shown.map((row) => `| ${row.map(this.cell).join(' | ')} |`));
      if (total > shown.length) this.lines.push('', `… and ${n(total - shown.length)} ${more} (--format json lists all)`);
    } else {
      for (const row of shown) this.lines.push(`  ${row.filter(Boolean).join('  ')}`);
      if (total > shown.length) this.lines.push(`  … and ${n(total - shown.length)} ${more} (--format json lists all)`);
    }
  }
}

export function renderFleetReview(r: FleetReview, mode: Mode, style: Style): string {
  const d = new Doc(mode, style);
  const title = `review of fleet ${d.code(r.fleet.name)} against ${d.code(r.base.ref)} (${d.code(r.base.commit.slice(0, 12))})`;
  d.para(mode === 'markdown' ? `### reconcile ${title}` : style.bold(title));
  if (mode === 'markdown') d.para('');
  const newErrors = r.findings.new.filter((f) => f.severity === 'error').length;
  const summary = [
    `${n(r.affected.length)} of ${plural(r.hosts.head, 'host')} affected`,
    plural(r.files.length, 'file') + ' changed',
    `worst risk ${d.risk(r.risk)}`,
    ...(r.unsafe.length ? [plural(r.unsafe.length, 'unsafe transition')] : []),
    newErrors ? `blocked: ${plural(newErrors, 'new error')}` : `${plural(r.findings.new.length, 'new finding')}`,
    `${n(r.findings.old)} old`,
  ];
  d.para(mode === 'markdown' ? `**${summary.join(' · ')}**` : summary.join(' · '));

  const aggs = aggregateChanges(r);
  if (aggs.length) {
    d.heading('Changes');
    const wavesOf = (a: Aggregate) => {
      const counts = new Map<string, number>();
      for (const h of a.hosts) for (const g of h.groups) counts.set(g, (counts.get(g) ?? 0) + 1);
      const ws = r.rollout.filter((w) => counts.has(w.group));
      const w = ws[0];
      return w && RISKS.indexOf(a.risk) >= RISKS.indexOf('restart') ? `maxParallel ${n(w.maxParallel)} → about ${plural(Math.ceil(counts.get(w.group)! / w.maxParallel), 'wave')} (group ${w.group})` : '';
    };
    const rows = aggs.map((a) => [d.code(a.address), a.change, d.risk(a.risk), hostsPhrase(a.hosts, r), [a.why, wavesOf(a)].filter(Boolean).join('; ')]);
    if (mode === 'markdown') d.table(['resource', 'change', 'risk', 'hosts', 'why'], rows, rows.length, 'distinct changes');
    else d.bullets(aggs.map((a, i) => `${rows[i]![0]} ${a.change} → ${a.risk} on ${rows[i]![3]}${rows[i]![4] ? `: ${rows[i]![4]}` : ''}`), aggs.length, 'distinct changes');
  }
  if (r.rollout.length) {
    d.heading('Rollout');
    d.bullets(r.rollout.map((w) => `group ${w.group}: ${plural(w.hosts, 'host')} at or above its gate; maxParallel ${n(w.maxParallel)} → about ${plural(w.waves, 'wave')}`), r.rollout.length, 'groups');
  }

  if (r.unsafe.length) {
    d.heading('Unsafe transitions');
    d.bullets(r.unsafe.map((u) => d.cell(u.message)), r.unsafe.length, 'unsafe transitions');
  }

  const newF = r.findings.new;
  if (newF.length || r.findings.resolved.length) {
    d.heading('Findings between base and head');
    const f = (x: (typeof newF)[number]) => d.cell(`${x.file}:${x.line}:${x.col}: ${x.severity === 'warning' ? 'warning: ' : ''}${x.message}`);
    if (newF.length) {
      d.para(newErrors ? `New (${plural(newErrors, 'error')} block${newErrors === 1 ? 's' : ''} the change):` : 'New:');
      d.bullets(newF.map(f), newF.length, 'new findings');
    }
    if (r.findings.resolved.length) {
      d.para('Resolved:');
      d.bullets(r.findings.resolved.map(f), r.findings.resolved.length, 'resolved findings');
    }
  }
  if (r.findings.old) d.para(`${plural(r.findings.old, 'finding')} at both commits (not new; see validate --fleet).`);

  if (r.migrations.length) {
    d.heading('Migration files');
    d.table(
      ['file', 'change', 'risk', 'hosts', 'why'],
      r.migrations.map((m) => [d.code(m.file), `${m.status}${m.released && m.status !== 'added' ? ' (released)' : ''}`, d.risk(m.risk), names(m.hosts), m.reasons.join('; ')]),
      r.migrations.length,
      'migration files',
    );
  }

  if (r.affected.length) {
    d.heading('Affected hosts, by why');
    d.bullets(aggregateReasons(r).map((a) => `${a.path}: ${d.cell(a.detail)}: ${plural(a.hosts.length, 'host')} (${names(a.hosts)})`), aggregateReasons(r).length, 'reasons');
  }
  if (r.files.length) {
    d.heading('Files changed');
    d.bullets(r.files.map((f) => `${d.code(f.path)} (${f.status})`), r.files.length, 'files');
  }
  let out = d.lines.join('\n').replace(/\n{3,}/g, '\n\n').replace(/\n+$/, '') + '\n';
  if (mode === 'markdown' && out.length > MARKDOWN_LIMIT) {
    // Every section is capped; this only guards against very long single lines.
    out = `${out.slice(0, MARKDOWN_LIMIT - 200).replace(/\n[^\n]*$/, '')}\n\n… cut at ${n(MARKDOWN_LIMIT)} characters (--format json lists all)\n`;
  }
  return redact(out);
}

export function renderFleetReviewJson(r: FleetReview): string {
  return redact(JSON.stringify(r, null, 2)) + '\n';
}
