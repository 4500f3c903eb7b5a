import { RISKS, describeGit, type Plan } from '../plan/types.js';
import { redact } from '../spec/secrets.js';
import { filesOf, ownLinesText, planFooter, sharedFiles } from './files.js';

const RISK_BADGE: Record<string, string> = { none: '⚪ none', reload: '🔵 reload', restart: '🟡 restart', disruptive: '🟠 disruptive', destructive: '🔴 destructive' };

/** A pull-request comment: a summary table by risk, then each change with a collapsible diff. */
export function renderPlanMarkdown(plan: Plan): string {
  const out: string[] = [];
  const git = plan.spec.git ? ` at ${describeGit(plan.spec.git).replace(/^\S+/, (c) => `\`${c}\``)}` : '';
  out.push(`### reconcile plan for \`${plan.host}\``, '');
  out.push(`Spec \`${plan.spec.path}\`${git}.`, '');
  if (plan.changes.length === 0) {
    out.push('**In sync**: nothing to change.');
  } else {
    out.push('| risk | changes |', '|---|---:|');
    for (const risk of [...RISKS].reverse()) {
      const n = plan.changes.filter((c) => c.risk === risk).length;
      if (n) out.push(`| ${RISK_BADGE[risk]} | ${n} |`);
    }
    out.push('');
    out.push('| resource | action | risk | summary |', '|---|---|---|---|');
    for (const c of plan.changes) out.push(`| \`${c.address}\` | ${c.action} | ${RISK_BADGE[c.risk]} | ${escapeCell(c.summary)} |`);
    out.push('');
    for (const c of plan.changes) {
      out.push(`<details><summary><code>${escapeHtml(c.address)}</code>: ${c.action} (${c.risk})</summary>`, '');
      out.push(escapeHtml(c.summary), '');
      if (c.acknowledged) out.push(`*Acknowledged drift until ${c.acknowledged.until}: ${escapeHtml(c.acknowledged.reason)}*`, '');
      if (c.diff) out.push(fence(c.diff, 'diff'), '');
      for (const { file, own, alone } of filesOf(plan, c.address)) {
        if (alone) out.push(fence(file.diff, 'diff'), '');
        else out.push(`<code>${escapeHtml(file.path)}</code>: ${ownLinesText(own)} (in its one diff below)`, '');
      }
      if (c.steps.length) {
        out.push('Steps:', '');
        for (const s of c.steps) out.push(`1. ${escapeHtml(s.title)}${s.live && plan.root !== '/' ? ' *(live host only)*' : ''}`);
        out.push('');
      }
      out.push('</details>', '');
    }
    for (const file of sharedFiles(plan)) {
      out.push(`<code>${escapeHtml(file.path)}</code>, one write for ${Object.keys(file.lines).map((a) => `<code>${escapeHtml(a)}</code>`).join(', ')}:`, '', fence(file.diff, 'diff'), '');
    }
    out.push(`**${planFooter(plan)}**`);
  }
  if (plan.warnings.length) {
    out.push('', '**Warnings**', '');
    for (const w of plan.warnings) out.push(`- ${escapeCell(w)}`);
  }
  return redact(out.join('\n').replace(/\n+$/, '') + '\n');
}

function fence(text: string, lang: string): string {
  const ticks = '`'.repeat(Math.max(3, ...[...text.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  return `${ticks}${lang}\n${text.replace(/\n$/, '')}\n${ticks}`;
}

function escapeCell(s: string): string {
  return escapeHtml(s).replace(/\|/g, '\\|');
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
