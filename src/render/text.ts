import { describeGit, type Plan, type Risk } from '../plan/types.js';
import type { ApplyReport } from '../plan/types.js';
import { redact } from '../spec/secrets.js';
import type { Style } from './style.js';
import { filesOf, ownLinesText, planFooter, sharedFiles } from './files.js';

const ACTION_MARK: Record<string, string> = { create: '+', update: '~', delete: '-', replace: '-/+', run: '>' };

function riskLabel(risk: Risk, style: Style): string {
  if (risk === 'destructive') return style.red(style.bold(risk));
  if (risk === 'disruptive') return style.red(risk);
  if (risk === 'restart') return style.yellow(risk);
  return risk;
}

function colorDiff(diff: string, style: Style): string {
  return diff
    .split('\n')
    .map((l) => (l.startsWith('+++') || l.startsWith('---') ? style.bold(l) : l.startsWith('+') ? style.green(l) : l.startsWith('-') ? style.red(l) : l.startsWith('@@') ? style.cyan(l) : l))
    .join('\n');
}

export function renderPlanText(plan: Plan, style: Style, options: { verbose?: boolean } = {}): string {
  const out: string[] = [];
  for (const w of plan.warnings) out.push(style.yellow(w));
  if (plan.changes.length === 0) {
    out.push(`${plan.host}: in sync, nothing to change (${Object.keys(plan.digests).length} resources checked)`);
    return redact(out.join('\n') + '\n');
  }
  for (const c of plan.changes) {
    out.push('');
    out.push(`${style.bold(`${ACTION_MARK[c.action] ?? '?'} ${c.address}`)}  ${c.action}, risk ${riskLabel(c.risk, style)}`);
    out.push(`  ${c.summary}`);
    if (c.acknowledged) out.push(`  ${style.dim(`acknowledged drift until ${c.acknowledged.until}: ${c.acknowledged.reason}`)}`);
    for (const n of c.notes ?? []) out.push(`  ${style.dim(`note: ${n}`)}`);
    if (c.diff) out.push(colorDiff(c.diff.replace(/\n$/, ''), style).replace(/^/gm, '    '));
    for (const { file, own, alone } of filesOf(plan, c.address)) {
      if (alone) out.push(colorDiff(file.diff.replace(/\n$/, ''), style).replace(/^/gm, '    '));
      else out.push(`  ${file.path}: ${ownLinesText(own)} ${style.dim('(in its one diff below)')}`);
    }
    for (const s of c.steps) out.push(`  ${style.dim(`step: ${s.title}${s.live && plan.root !== '/' ? ' (live host only: skipped under --root)' : ''}`)}`);
  }
  for (const file of sharedFiles(plan)) {
    out.push('');
    out.push(style.bold(`${file.path}: one write for ${Object.keys(file.lines).join(', ')}`));
    out.push(colorDiff(file.diff.replace(/\n$/, ''), style).replace(/^/gm, '    '));
  }
  const counts = new Map<string, number>();
  for (const c of plan.changes) counts.set(c.action, (counts.get(c.action) ?? 0) + 1);
  out.push('');
  out.push(style.bold(`${plan.host}: ${plan.changes.length} change${plan.changes.length === 1 ? '' : 's'} pending (${[...counts].map(([a, n]) => `${n} ${a}`).join(', ')})`));
  out.push(planFooter(plan));
  if (options.verbose) out.push(style.dim(`spec ${plan.spec.path} sha256 ${plan.spec.sha256.slice(0, 12)}${plan.spec.git ? ` git ${describeGit(plan.spec.git)}` : ''}`));
  return redact(out.join('\n') + '\n');
}

export function renderApplyText(report: ApplyReport, style: Style): string {
  const out: string[] = [];
  if (report.results.length === 0 && report.ok) {
    out.push(`${report.plan.host}: in sync, nothing to change`);
    return redact(out.join('\n') + '\n');
  }
  const mark: Record<string, string> = { done: style.green('done'), already: 'already', skipped: style.dim('skipped'), failed: style.red('FAILED'), 'not run': style.yellow('not run') };
  for (const r of report.results) {
    out.push(`  ${mark[r.status]}  ${r.title}${r.detail ? style.dim(`  ${r.detail}`) : ''}${r.durationMs ? style.dim(` (${r.durationMs} ms)`) : ''}`);
    if (r.error) out.push(r.error.replace(/^/gm, '      '));
  }
  const n = (s: string) => report.results.filter((r) => r.status === s).length;
  out.push('');
  out.push(`${n('done')} done, ${n('already')} already in place, ${n('skipped')} skipped, ${n('failed')} failed, ${n('not run')} not run`);
  if (report.journal) out.push(style.dim(`journal: ${report.journal}`));
  if (report.ok) out.push(style.green(style.bold(`${report.plan.host}: converged`)));
  else out.push(style.red(style.bold(`${report.plan.host}: not converged: ${report.stoppedBecause ?? 'unknown'}`)));
  return redact(out.join('\n') + '\n');
}
